//! Commands that start work: invoke, start, send, rerun.

use crate::cli::{InvokeArgs, SendArgs, StartArgs};
use crate::client::{read_json_arg, Client};
use crate::output;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use std::process::ExitCode;
use std::time::Duration;

pub async fn invoke(client: &Client, args: InvokeArgs, json: bool) -> Result<ExitCode> {
    let event = read_json_arg(args.event.as_deref())?;
    let path = format!("/v1/functions/{}/invoke", args.function);
    let accepted: Value = client
        .post_with(&path, &event, args.idempotency_key.as_deref())
        .await?;
    finish(client, accepted, args.no_wait, json).await
}

pub async fn start(client: &Client, args: StartArgs, json: bool) -> Result<ExitCode> {
    let input = read_json_arg(args.input.as_deref())?;
    let path = format!("/v1/pipelines/{}/runs", args.pipeline);
    let accepted: Value = client
        .post_with(&path, &input, args.idempotency_key.as_deref())
        .await?;
    finish(client, accepted, args.no_wait, json).await
}

pub async fn send(client: &Client, args: SendArgs, json: bool) -> Result<ExitCode> {
    let body = read_json_arg(Some(&args.body))?;
    let message = json!({
        "body": body,
        "group": args.group,
        "dedup_key": args.dedup_key,
        "delay_ms": args.delay.map(|d| d.as_millis() as u64).unwrap_or(0),
    });
    let sent: Value = client
        .post(&format!("/v1/queues/{}/messages", args.queue), &message)
        .await?;
    if json {
        output::print_json(&sent);
    } else {
        let note = if sent["duplicate"].as_bool() == Some(true) {
            " (duplicate: already sent)"
        } else {
            ""
        };
        println!(
            "message {}{note}",
            sent["message_id"].as_str().unwrap_or("?")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn rerun(
    client: &Client,
    run: &str,
    steps: Vec<String>,
    no_wait: bool,
    json: bool,
) -> Result<ExitCode> {
    let record: Value = client
        .post(&format!("/v1/runs/{run}/rerun"), &json!({ "steps": steps }))
        .await?;
    let accepted = json!({ "run_id": record["id"] });
    finish(client, accepted, no_wait, json).await
}

pub async fn trigger(
    client: &Client,
    schedule: &str,
    no_wait: bool,
    json: bool,
) -> Result<ExitCode> {
    let dispatched: Value = client
        .post(&format!("/v1/schedules/{schedule}/trigger"), &json!({}))
        .await?;
    if dispatched["run_id"].is_null() {
        println!(
            "message {} sent",
            dispatched["message_id"].as_str().unwrap_or("?")
        );
        return Ok(ExitCode::SUCCESS);
    }
    finish(client, dispatched, no_wait, json).await
}

/// Prints the run id, or waits for the run to end and prints its result.
/// The exit status is 0 only for a succeeded run.
async fn finish(client: &Client, accepted: Value, no_wait: bool, json: bool) -> Result<ExitCode> {
    let run_id = accepted["run_id"].as_str().unwrap_or_default().to_string();
    if no_wait {
        if json {
            output::print_json(&accepted);
        } else {
            println!("{run_id}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let run = wait_for_end(client, &run_id).await?;
    let succeeded = run["status"] == "succeeded";
    if json {
        output::print_json(&run);
    } else if succeeded {
        output::print_json(&run["output"]);
    } else {
        eprintln!(
            "run {run_id} {}: {}",
            run["status"].as_str().unwrap_or("?"),
            run["error"].as_str().unwrap_or("no error recorded")
        );
        eprintln!("details: sluice run show {run_id}   logs: sluice logs {run_id}");
    }
    Ok(if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Long-polls the run until it is terminal, with a spinner on a terminal.
async fn wait_for_end(client: &Client, run_id: &str) -> Result<Value> {
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"),
    );
    spinner.enable_steady_tick(Duration::from_millis(120));
    loop {
        let run: Value = client.get(&format!("/v1/runs/{run_id}?wait=20")).await?;
        let status = run["status"].as_str().unwrap_or("?").to_string();
        spinner.set_message(format!("run {run_id}: {status}"));
        if matches!(status.as_str(), "succeeded" | "failed" | "cancelled") {
            spinner.finish_and_clear();
            return Ok(run);
        }
    }
}

pub async fn cancel(client: &Client, run: &str, json: bool) -> Result<ExitCode> {
    let record: Value = client
        .post(&format!("/v1/runs/{run}/cancel"), &json!({}))
        .await?;
    if json {
        output::print_json(&record);
    } else {
        println!("run {run} cancelled");
    }
    Ok(ExitCode::SUCCESS)
}
