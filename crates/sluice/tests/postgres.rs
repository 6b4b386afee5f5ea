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
