//! `sluice events put` (publish to a running Sluice) and `sluice events
//! test-pattern` (try a rule's pattern on an event, offline).

use crate::client::Client;
use crate::output;
use anyhow::{anyhow, Context, Result};
use serde_json::{json, Value};
use sluice_core::pattern::Pattern;
use std::process::ExitCode;

/// Exit status 0 when the event matches, 1 when it does not, 2 for a bad pattern.
pub fn test_pattern(pattern: &str, event: &str, as_json: bool) -> Result<ExitCode> {
    let pattern_value = json_arg(pattern, "pattern")?;
    let event = json_arg(event, "event")?;
    let pattern = match Pattern::compile(&pattern_value) {
        Ok(p) => p,
        Err(err) => {
            eprintln!("invalid pattern: {err}");
            return Ok(ExitCode::from(2));
        }
    };
    let reasons = pattern.mismatches(&event);
    let matches = reasons.is_empty();
    if as_json {
        let reason = (!matches).then(|| reasons.join("; "));
        output::print_json(&json!({ "matches": matches, "reason": reason, "reasons": reasons }));
    } else {
        match reasons.as_slice() {
            [] => println!("match"),
            [one] => println!("no match: {one}"),
            many => {
                println!("no match ({} reasons):", many.len());
                for reason in many {
                    println!("  - {reason}");
                }
            }
        }
    }
    Ok(if matches {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn json_arg(arg: &str, what: &str) -> Result<Value> {
    let text = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the {what} from {path}"))?,
        None => arg.to_string(),
    };
    serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "the {what} is not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })
}

/// Publishes one event and prints where it went.
pub async fn put(
    client: &Client,
    source: &str,
    detail_type: &str,
    detail: &str,
    as_json: bool,
) -> Result<ExitCode> {
    let detail = json_arg(detail, "detail")?;
    let body =
        json!({ "entries": [{ "source": source, "detail-type": detail_type, "detail": detail }] });
    let answer: Value = client.post("/v1/events", &body).await?;
    if as_json {
        output::print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    for entry in answer["entries"].as_array().into_iter().flatten() {
        let deliveries = entry["deliveries"].as_array().cloned().unwrap_or_default();
        println!(
            "event {}: {} deliver{}",
            entry["event_id"].as_str().unwrap_or("?"),
            deliveries.len(),
            if deliveries.len() == 1 { "y" } else { "ies" }
        );
        for d in deliveries {
            let what = d["run_id"]
                .as_str()
                .map(|r| format!("run {r}"))
                .unwrap_or_else(|| format!("message {}", d["message_id"].as_str().unwrap_or("?")));
            println!("  {} -> {what}", d["source"].as_str().unwrap_or("?"));
        }
    }
    Ok(ExitCode::SUCCESS)
}
