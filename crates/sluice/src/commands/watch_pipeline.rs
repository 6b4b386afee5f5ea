//! `sluice watch --pipeline NAME`: every run of a pipeline, live: status
//! changes, log lines and a progress bar per run (its phases and items), until Ctrl-C.
//! A dropped connection is resumed from the last position seen, so nothing
//! is missed.

use crate::client::Client;
use crate::output;
use anyhow::Result;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::Value;
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

pub async fn watch_pipeline(
    client: &Client,
    pipeline: &str,
    after: Option<i64>,
    json: bool,
) -> Result<ExitCode> {
    let bars = MultiProgress::new();
    let mut steps: HashMap<String, ProgressBar> = HashMap::new();
    let mut last_seen: Option<i64> = after;
    let path = format!("/v1/pipelines/{pipeline}/events");
    loop {
        let mut response = client.open_stream(&path, last_seen).await?;
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                let (id, kind, data) = parse_event(&event);
                if let Some(id) = id {
                    last_seen = Some(id);
                }
                let Some(data) = data else { continue };
                if json {
                    bars.suspend(|| {
                        println!(
                            "{}",
                            serde_json::json!({ "seq": id, "kind": kind, "data": data })
                        )
                    });
                    continue;
                }
                show(&bars, &mut steps, &kind, &data);
            }
        }
        // The server closed the stream (restart, network): resume where we were.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `(id, event, data)` of one Server-Sent Event.
fn parse_event(event: &str) -> (Option<i64>, String, Option<Value>) {
    let (mut id, mut kind, mut data) = (None, String::from("message"), String::new());
    for line in event.lines() {
        if let Some(v) = line.strip_prefix("id:") {
            id = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("event:") {
            kind = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim_start());
        }
    }
    (id, kind, serde_json::from_str(&data).ok())
}

fn show(bars: &MultiProgress, steps: &mut HashMap<String, ProgressBar>, kind: &str, data: &Value) {
    let run = data["run_id"].as_str().unwrap_or("?");
    match kind {
        "status" => bars.suspend(|| {
            println!(
                "{} run {run} {}{}",
                output::time(&data["at"]),
                data["status"].as_str().unwrap_or("?"),
                data["error"]
                    .as_str()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            )
        }),
        // One bar per run, its aggregate progress (phases and fan-out items);
        // the steps' own reports would be a bar per item.
        "progress" if !data["step"].is_null() => {}
        "progress" => {
            let key = run.to_string();
            let bar = steps.entry(key.clone()).or_insert_with(|| {
                let bar = bars.add(ProgressBar::new(0));
                let style =
                    ProgressStyle::with_template("  {prefix:<40} [{bar:30}] {pos}/{len} {msg}")
                        .expect("valid template");
                bar.set_style(style.progress_chars("=> "));
                bar.set_prefix(key);
                bar
            });
            let report = &data["report"];
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
        "error" => bars.suspend(|| eprintln!("feed error: {}", data["message"])),
        _ => bars.suspend(|| {
            print!("{run} ");
            output::log_line(data)
        }),
    }
}
