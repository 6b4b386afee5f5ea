//! Crash safety: `kill -9` of `sluice up` mid-batch, then a restart, loses no
//! accepted message, finishes every run, and does not redo completed work.

mod common;

use common::*;
use serde_json::json;
use std::collections::HashMap;

const PROJECT: &str = r#"
version: 1
functions:
  record:
    # Appends the message's id to a journal, then works a little.
    run: sh record.sh
    timeout: 60s
queues:
  batch:
    target: { function: record }
    concurrency: 4
    visibility_timeout: 2s
    max_receive_count: 10
    backoff: { initial: 50ms, max: 200ms }
"#;

const RECORD: &str = r#"
event=$(cat)
id=$(printf '%s' "$event" | sed -n 's/.*"id"[[:space:]]*:[[:space:]]*\([0-9]*\).*/\1/p')
echo "$id" >> journal
sleep 0.05
echo "{\"done\": $id}"
"#;

const MESSAGES: usize = 80;

fn journal(dir: &std::path::Path) -> Vec<u64> {
    std::fs::read_to_string(dir.join("journal"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[test]
fn kill_9_mid_batch_then_restart_finishes_every_run_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[("record.sh", RECORD)]);
    let data = tmp.path().join("data");
    let server = Server::start(&dir, &data);
    let mut run_ids = Vec::new();
    for id in 0..MESSAGES {
        let sent = server.post(
            "/v1/queues/batch/messages",
            &json!({ "body": { "id": id } }),
        );
        run_ids.push(
            sent["run_id"]
                .as_str()
                .expect("accepted with a run id")
                .to_string(),
        );
    }
    // Kill once about a quarter has run: messages are delivered oldest first.
    let quarter = server.wait_run(&run_ids[MESSAGES / 4]);
    assert_eq!(quarter["status"], "succeeded");
    server.kill();
    let recorded_at_kill = journal(&dir).len();
    assert!(
        recorded_at_kill < MESSAGES,
        "the kill happened mid-batch ({recorded_at_kill} recorded)"
    );

    let server = Server::start(&dir, &data);
    let runs = server.get(&format!("/v1/runs?limit={}", MESSAGES * 2));
    assert_eq!(
        runs.as_array().unwrap().len(),
        MESSAGES,
        "every accepted message has its run"
    );
    for run_id in &run_ids {
        let run = server.wait_run(run_id);
        assert_eq!(run["status"], "succeeded", "{run}");
    }

    let journal = journal(&dir);
    let mut counts: HashMap<u64, usize> = HashMap::new();
    for id in &journal {
        *counts.entry(*id).or_default() += 1;
    }
    for id in 0..MESSAGES as u64 {
        assert!(counts.contains_key(&id), "message {id} was never processed");
    }
    let repeated: usize = counts.values().map(|c| c - 1).sum();
    assert!(repeated <= 4, "only the runs in flight at the kill (at most the concurrency, 4) may repeat; {repeated} did");
}
