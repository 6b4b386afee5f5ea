//! `sluice up --store postgres://…`: the same engine on PostgreSQL, state
//! surviving a `kill -9`. Needs the PostgreSQL at `SLUICE_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`); fails, never skips,
//! when it is not there.

mod common;

use common::*;
use serde_json::json;
use std::path::Path;
use std::process::Stdio;

fn database_url() -> String {
    std::env::var("SLUICE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Drops the test's schema when the test ends, however it ends.
struct Schema(String);

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .arg(database_url())
            .args([
                "-q",
                "-c",
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0),
            ])
            .output();
    }
}

#[test]
fn the_quickstart_runs_on_postgres_and_keeps_its_state_across_a_kill() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let schema = Schema(format!("sluice_e2e_{}_{nanos}", std::process::id()));
    let store = format!("{}?schema={}", database_url(), schema.0);
    let quickstart = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/quickstart")
        .canonicalize()
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let args = ["--store", store.as_str()];

    let server = Server::start_with(&quickstart, data.path(), &[], &args, Stdio::inherit());
    let run = server.post(
        "/v1/pipelines/welcome/runs?wait=30",
        &json!({ "name": "Pat" }),
    );
    assert_eq!(
        run["status"],
        "succeeded",
        "is PostgreSQL running at {}? {run}",
        database_url()
    );
    assert_eq!(run["output"]["message"], "HELLO, PAT!");
    let run_id = run["id"].as_str().unwrap().to_string();
    server.kill();

    let server = Server::start_with(&quickstart, data.path(), &[], &args, Stdio::inherit());
    let again = server.get(&format!("/v1/runs/{run_id}"));
    assert_eq!(
        again["status"], "succeeded",
        "the run is still there after the restart"
    );
    let logs = stdout(&server.cli(&["logs", &run_id]));
    assert!(logs.contains("greeting Pat"), "{logs}");
}

/// A unique schema name for one test.
fn test_schema(tag: &str) -> Schema {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    Schema(format!("sluice_{tag}_{}_{nanos}", std::process::id()))
}

const SLOW: &str = r#"
version: 1
functions:
  slow:
    # Records its process id, then works for far longer than the test.
    run: sh slow.sh
pipelines:
  long:
    retry: { max_attempts: 1 }
    phases:
      - { name: wait, function: slow }
      - { name: after, function: slow }
"#;

/// Whether process `pid` still runs (a zombie waiting to be reaped does not).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| stat.split_whitespace().nth(2).is_none_or(|s| s != "Z"))
        .unwrap_or(false)
}

#[test]
fn a_cancel_sent_to_another_process_stops_the_work_where_it_runs() {
    let schema = test_schema("cancel");
    let store = format!("{}?schema={}", database_url(), schema.0);
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(
        &tmp.path().join("p"),
        SLOW,
        &[("slow.sh", "echo $$ > started.pid\nexec sleep 300\n")],
    );
    let args = ["--store", store.as_str()];
    let worker = Server::start_with(&dir, &tmp.path().join("a"), &[], &args, Stdio::inherit());
    let accepted = worker.post("/v1/pipelines/long/runs", &json!({}));
    let run_id = accepted["run_id"].as_str().unwrap().to_string();
    let pid_file = dir.join("started.pid");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .filter(|p| p.ends_with('\n'))
        {
            break pid.trim().to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the handler never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(alive(&pid));

    // A second process on the same store: its dispatchers find nothing to
    // lease (the message is held), and the cancel is sent to it.
    let other = Server::start_with(&dir, &tmp.path().join("b"), &[], &args, Stdio::inherit());
    let out = other.cli(&["cancel", &run_id]);
    assert!(out.status.success(), "{}", stderr(&out));

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while alive(&pid) {
        assert!(
            std::time::Instant::now() < deadline,
            "the handler (pid {pid}) still runs after the cancel"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The worker acknowledges the message once it has stopped.
    loop {
        let stats = worker.get("/v1/queues/pipeline.long")["stats"].clone();
        if stats["in_flight"] == 0 && stats["visible"] == 0 && stats["delayed"] == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the message is still held: {stats}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let logs = stdout(&worker.cli(&["logs", &run_id]));
    assert!(logs.contains("run cancelled; stopped its work"), "{logs}");
    let run = worker.get(&format!("/v1/runs/{run_id}"));
    assert_eq!(run["status"], "cancelled", "{run}");
    let steps = run["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .flat_map(|s| s["attempts"].as_array().cloned().unwrap_or_default())
            .all(|a| a["status"] != "running"),
        "no attempt is left running: {run}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s["name"] == "after" && s["attempts"].as_array().is_none_or(|a| a.is_empty())),
        "the next phase never started: {run}"
    );
}
