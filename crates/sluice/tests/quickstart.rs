//! The README's quickstart, driven through the real binary and its CLI.

mod common;

use common::*;
use std::path::Path;

fn quickstart() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/quickstart")
        .canonicalize()
        .unwrap()
}

#[test]
fn invoke_start_runs_show_and_logs_work_end_to_end() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&quickstart(), data.path());

    let out = server.cli(&["invoke", "greet", "--event", "events/hello.json"]);
    assert!(out.status.success(), "invoke failed: {}", stderr(&out));
    let result: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(result["message"], "Hello, Ada!");

    let run = server.cli_json(&["start", "welcome", "--input", "events/hello.json"]);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["output"]["message"], "HELLO, ADA!");
    let steps: Vec<&str> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["greet", "shout"]);
    let run_id = run["id"].as_str().unwrap();

    let runs = server.cli_json(&["runs", "--status", "succeeded"]);
    assert_eq!(runs.as_array().unwrap().len(), 2, "{runs}");
    assert_eq!(runs[0]["id"], run_id, "newest first");

    let shown = server.cli(&["run", "show", run_id]);
    let text = stdout(&shown);
    assert!(
        text.contains("succeeded") && text.contains("attempt 1"),
        "{text}"
    );

    let logs = stdout(&server.cli(&["logs", run_id]));
    assert!(
        logs.contains("greeting Ada"),
        "stderr of the handler is in the log: {logs}"
    );
    assert!(logs.contains("shouting"), "{logs}");
}

#[test]
fn unknown_function_is_refused_with_a_suggestion() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&quickstart(), data.path());
    let out = server.cli(&["invoke", "gret"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("no function named `gret`") && err.contains("did you mean `greet`"),
        "{err}"
    );
}

#[test]
fn queue_messages_become_runs_and_idempotency_keys_deduplicate() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&quickstart(), data.path());
    let body = serde_json::json!({ "body": { "name": "Grace" }, "dedup_key": "grace-1" });
    let first = server.post("/v1/queues/greetings/messages", &body);
    let second = server.post("/v1/queues/greetings/messages", &body);
    assert_eq!(first["message_id"], second["message_id"]);
    assert_eq!(second["duplicate"], true);
    let runs = server.get("/v1/runs?target=greet");
    assert_eq!(
        runs.as_array().unwrap().len(),
        1,
        "one run for two identical sends: {runs}"
    );
    let run = server.wait_run(runs[0]["id"].as_str().unwrap());
    assert_eq!(run["output"]["message"], "Hello, Grace!");
    assert_eq!(run["trigger"], "queue:greetings");
}

#[test]
fn json_logs_carry_run_step_and_attempt_ids() {
    use std::io::BufRead;
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(
        &quickstart(),
        data.path(),
        &["--log-format", "json"],
        &[],
        std::process::Stdio::piped(),
    );
    let stderr = server.child.stderr.take().unwrap();
    let accepted = server.post(
        "/v1/functions/greet/invoke",
        &serde_json::json!({ "name": "Lin" }),
    );
    let run_id = accepted["run_id"].as_str().unwrap().to_string();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.unwrap();
        let entry: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        if entry["fields"]["message"] != "attempt finished" {
            continue;
        }
        let spans = entry["spans"].as_array().expect("span list");
        let field = |name: &str| {
            spans
                .iter()
                .find_map(|s| s[name].as_str().map(str::to_string))
        };
        assert_eq!(field("run_id").as_deref(), Some(run_id.as_str()), "{line}");
        assert_eq!(field("step").as_deref(), Some("greet"), "{line}");
        assert!(field("attempt_id").unwrap().starts_with("att_"), "{line}");
        return;
    }
    panic!("no `attempt finished` line in the JSON log");
}

#[test]
fn logs_follow_streams_until_the_run_finishes() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&quickstart(), data.path());
    let accepted = server.post(
        "/v1/pipelines/welcome/runs",
        &serde_json::json!({ "name": "Kay" }),
    );
    let run_id = accepted["run_id"].as_str().unwrap();
    let out = server.cli(&["logs", run_id, "--follow"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("greeting Kay") && text.contains("shouting"),
        "{text}"
    );
    assert_eq!(
        server.get(&format!("/v1/runs/{run_id}"))["status"],
        "succeeded",
        "follow returns once the run is over"
    );
}
