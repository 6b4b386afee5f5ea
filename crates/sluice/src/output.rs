//! Human-readable rendering of API answers (`--json` prints them raw instead).

use chrono::{TimeZone, Utc};
use serde_json::Value;

/// Prints a value as pretty JSON.
pub fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

/// `2026-11-23 11:20:01.123` (UTC) from epoch milliseconds.
pub fn time(ms: &Value) -> String {
    ms.as_i64()
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
        .unwrap_or_else(|| "-".to_string())
}

/// Duration between two epoch-millisecond fields, e.g. `1.25s`.
pub fn duration(start: &Value, end: &Value) -> String {
    match (start.as_i64(), end.as_i64()) {
        (Some(s), Some(e)) => format!("{:.3}s", (e - s) as f64 / 1000.0),
        _ => "-".to_string(),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn runs_table(runs: &[Value]) {
    if runs.is_empty() {
        println!("no runs");
        return;
    }
    println!(
        "{:<38} {:<9} {:<20} {:<10} {:<23} {:>9}",
        "RUN", "KIND", "TARGET", "STATUS", "CREATED (UTC)", "DURATION"
    );
    for r in runs {
        println!(
            "{:<38} {:<9} {:<20} {:<10} {:<23} {:>9}",
            text(&r["id"]),
            text(&r["kind"]),
            text(&r["target"]),
            text(&r["status"]),
            time(&r["created_at"]),
            duration(&r["started_at"], &r["finished_at"]),
        );
    }
}

pub fn run_detail(run: &Value) {
    println!("run      {}", text(&run["id"]));
    println!("target   {} {}", text(&run["kind"]), text(&run["target"]));
    println!("status   {}", text(&run["status"]));
    println!("trigger  {}", text(&run["trigger"]));
    println!("created  {}", time(&run["created_at"]));
    println!(
        "duration {}",
        duration(&run["started_at"], &run["finished_at"])
    );
    if !run["error"].is_null() {
        println!("error    {}", text(&run["error"]));
    }
    println!("steps:");
    for step in run["steps"].as_array().into_iter().flatten() {
        println!(
            "  {:<24} {:<10} {}",
            text(&step["name"]),
            text(&step["status"]),
            duration(&step["started_at"], &step["finished_at"])
        );
        for a in step["attempts"].as_array().into_iter().flatten() {
            let error = if a["error"].is_null() {
                String::new()
            } else {
                format!("  {}", text(&a["error"]))
            };
            println!(
                "    attempt {:<3} {:<10} {} {}{}",
                text(&a["number"]),
                text(&a["status"]),
                time(&a["started_at"]),
                duration(&a["started_at"], &a["finished_at"]),
                error
            );
        }
    }
    if !run["output"].is_null() {
        println!("output:");
        println!(
            "{}",
            serde_json::to_string_pretty(&run["output"]).unwrap_or_default()
        );
    }
}

pub fn log_line(line: &Value) {
    let step = line["step"].as_str().unwrap_or("-");
    println!(
        "{} {:<7} {:<16} {}",
        time(&line["at"]),
        text(&line["stream"]),
        step,
        text(&line["line"])
    );
}

pub fn messages_table(messages: &[Value]) {
    if messages.is_empty() {
        println!("no messages");
        return;
    }
    println!(
        "{:<38} {:<38} {:>8} {:<23}  LAST ERROR",
        "MESSAGE", "RUN", "RECEIVES", "ENQUEUED (UTC)"
    );
    for m in messages {
        println!(
            "{:<38} {:<38} {:>8} {:<23}  {}",
            text(&m["message_id"]),
            text(&m["run_id"]),
            text(&m["receive_count"]),
            time(&m["enqueued_at"]),
            text(&m["last_error"]),
        );
    }
}

pub fn queues_table(queues: &[Value]) {
    println!(
        "{:<32} {:>8} {:>8} {:>10} {:>11} {:>9}",
        "QUEUE", "VISIBLE", "DELAYED", "IN FLIGHT", "CONCURRENCY", "MAX RECV"
    );
    for q in queues {
        let d = &q["definition"];
        println!(
            "{:<32} {:>8} {:>8} {:>10} {:>11} {:>9}",
            text(&q["name"]),
            text(&q["stats"]["visible"]),
            text(&q["stats"]["delayed"]),
            text(&q["stats"]["in_flight"]),
            text(&d["concurrency"]),
            text(&d["max_receive_count"]),
        );
    }
}

pub fn schedules_table(schedules: &[Value]) {
    if schedules.is_empty() {
        println!("no schedules");
        return;
    }
    println!(
        "{:<20} {:<32} {:<16} {:<23} {:<23} LAST RUN",
        "SCHEDULE", "EXPRESSION", "TIME ZONE", "NEXT (UTC)", "LAST (UTC)"
    );
    for s in schedules {
        println!(
            "{:<20} {:<32} {:<16} {:<23} {:<23} {}",
            text(&s["name"]),
            text(&s["expression"]),
            text(&s["timezone"]),
            time(&s["next_fire_at"]),
            time(&s["last_fired_at"]),
            text(&s["last_run_id"]),
        );
    }
}
