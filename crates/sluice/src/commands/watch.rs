//! `sluice watch RUN`: a run's log and progress in the terminal, live, with a
//! progress bar for the whole run and one per step that reports progress, until the run ends.

use crate::client::Client;
use crate::output;
use anyhow::Result;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::Value;
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

pub async fn watch(client: &Client, run_id: &str, json: bool) -> Result<ExitCode> {
    let bars = MultiProgress::new();
    let status = bars.add(ProgressBar::new_spinner());
    status.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"),
    );
    status.enable_steady_tick(Duration::from_millis(120));
    let mut steps: HashMap<String, ProgressBar> = HashMap::new();
    let mut after = 0i64;
    loop {
        let page: Value = client
            .get(&format!("/v1/runs/{run_id}/logs?after={after}&wait=20"))
            .await?;
        status.set_message(format!(
            "run {run_id}: {}",
            page["run_status"].as_str().unwrap_or("?")
        ));
        let lines = page["lines"].as_array().cloned().unwrap_or_default();
        for line in &lines {
            if json {
                bars.suspend(|| println!("{line}"));
            } else if line["stream"] == "progress" {
                show_progress(&bars, &mut steps, line);
            } else {
                bars.suspend(|| output::log_line(line));
            }
        }
        after = page["next_after"].as_i64().unwrap_or(after);
        if lines.is_empty() && page["finished"].as_bool().unwrap_or(false) {
            break;
        }
    }
    for bar in steps.values() {
        bar.finish();
    }
    status.finish_and_clear();
    let run: Value = client.get(&format!("/v1/runs/{run_id}")).await?;
    let status = run["status"].as_str().unwrap_or("?");
    eprintln!(
        "run {run_id} {status}{}",
        run["error"]
            .as_str()
            .map(|e| format!(": {e}"))
            .unwrap_or_default()
    );
    Ok(if status == "succeeded" {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Progress lines hold `{"done": N, "total": M, "message": "..."}`.
fn show_progress(bars: &MultiProgress, steps: &mut HashMap<String, ProgressBar>, line: &Value) {
    let report: Value = line["line"]
        .as_str()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    // The run's own progress (all phases and items) has no step.
    let step = line["step"].as_str().unwrap_or("(run)").to_string();
    let bar = steps.entry(step.clone()).or_insert_with(|| {
        let bar = bars.add(ProgressBar::new(0));
        let style = ProgressStyle::with_template("  {prefix:<16} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template");
        bar.set_style(style.progress_chars("=> "));
        bar.set_prefix(step);
        bar
    });
    if let Some(total) = report["total"].as_u64() {
        bar.set_length(total);
    }
    if let Some(done) = report["done"].as_u64() {
        bar.set_position(done);
    }
    if let Some(message) = report["message"].as_str() {
        bar.set_message(message.to_string());
    }
}
