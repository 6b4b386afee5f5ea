//! Read-only commands: runs, run show, logs, queues, dead letters (and redrive).

use crate::cli::RunsArgs;
use crate::client::Client;
use crate::output;
use anyhow::Result;
use serde_json::{json, Value};
use std::process::ExitCode;

pub async fn runs(client: &Client, args: RunsArgs, json: bool) -> Result<ExitCode> {
    let mut path = format!("/v1/runs?limit={}", args.limit);
    if let Some(status) = &args.status {
        path.push_str(&format!("&status={status}"));
    }
    if let Some(target) = &args.target {
        path.push_str(&format!("&target={target}"));
    }
    let runs: Vec<Value> = client.get(&path).await?;
    if json {
        output::print_json(&Value::Array(runs));
    } else {
        output::runs_table(&runs);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn show(client: &Client, id: &str, json: bool) -> Result<ExitCode> {
    let run: Value = client.get(&format!("/v1/runs/{id}")).await?;
    if json {
        output::print_json(&run);
    } else {
        output::run_detail(&run);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints log lines; following uses the API's long-poll so lines appear as
/// soon as they are stored, and stops when the run has finished.
pub async fn logs(client: &Client, run: &str, follow: bool, json: bool) -> Result<ExitCode> {
    let mut after = 0i64;
    loop {
        let wait = if follow { "&wait=20" } else { "" };
        let page: Value = client
            .get(&format!("/v1/runs/{run}/logs?after={after}{wait}"))
            .await?;
        let lines = page["lines"].as_array().cloned().unwrap_or_default();
        for line in &lines {
            if json {
                println!("{line}");
            } else {
                output::log_line(line);
            }
        }
        after = page["next_after"].as_i64().unwrap_or(after);
        let finished = page["finished"].as_bool().unwrap_or(true);
        if lines.is_empty() && (!follow || finished) {
            return Ok(ExitCode::SUCCESS);
        }
    }
}

pub async fn queues(client: &Client, json: bool) -> Result<ExitCode> {
    let queues: Vec<Value> = client.get("/v1/queues").await?;
    if json {
        output::print_json(&Value::Array(queues));
    } else {
        output::queues_table(&queues);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn dlq_list(client: &Client, queue: &str, limit: usize, json: bool) -> Result<ExitCode> {
    let messages: Vec<Value> = client
        .get(&format!("/v1/queues/{queue}/dead-letters?limit={limit}"))
        .await?;
    if json {
        output::print_json(&Value::Array(messages));
    } else {
        output::messages_table(&messages);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn dlq_redrive(
    client: &Client,
    queue: &str,
    max: Option<usize>,
    json: bool,
) -> Result<ExitCode> {
    let answer: Value = client
        .post(
            &format!("/v1/queues/{queue}/redrive"),
            &json!({ "max": max }),
        )
        .await?;
    if json {
        output::print_json(&answer);
    } else {
        println!(
            "moved {} message(s) from `{}` back to their queues",
            answer["moved"],
            answer["dead_letter_queue"].as_str().unwrap_or("?")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn schedules(client: &Client, json: bool) -> Result<ExitCode> {
    let schedules: Vec<Value> = client.get("/v1/schedules").await?;
    if json {
        output::print_json(&Value::Array(schedules));
    } else {
        output::schedules_table(&schedules);
    }
    Ok(ExitCode::SUCCESS)
}
