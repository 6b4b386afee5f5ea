//! Retries, dead letters, redrive, rerun of one step, timeouts and bad
//! handler output, through the real binary.

mod common;

use common::*;
use serde_json::json;

/// A handler that fails until the file `ok` exists in the project directory.
const FLAKY: &str = r#"
cat > /dev/null
if [ -f ok ]; then echo '{"fixed": true}'; else echo "not fixed yet" >&2; exit 3; fi
"#;

const PROJECT: &str = r#"
version: 1
functions:
  flaky:
    run: sh flaky.sh
    timeout: 30s
  first:
    run: sh first.sh
  sleeper:
    run: sh -c "cat >/dev/null; sleep 600"
    timeout: 1s
    retry: { max_attempts: 1 }
  chatty:
    run: sh -c "cat >/dev/null; echo this is not json"
    retry: { max_attempts: 1 }
queues:
  jobs:
    target: { function: flaky }
    max_receive_count: 2
    backoff: { initial: 50ms, max: 100ms }
pipelines:
  two-steps:
    retry: { max_attempts: 1 }
    phases:
      - name: first
        function: first
      - name: second
        function: flaky
"#;

const FIRST: &str = r#"
cat > /dev/null
echo x >> first-ran
echo '{"from": "first"}'
"#;

fn setup(dir: &std::path::Path) -> std::path::PathBuf {
    project(dir, PROJECT, &[("flaky.sh", FLAKY), ("first.sh", FIRST)])
}

#[test]
fn failed_messages_retry_then_dead_letter_and_redrive_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = setup(&tmp.path().join("p"));
    let server = Server::start(&dir, &tmp.path().join("data"));

    let sent = server.post("/v1/queues/jobs/messages", &json!({ "body": { "n": 1 } }));
    assert!(sent["message_id"].is_string(), "{sent}");
    let runs = server.get("/v1/runs?target=flaky");
    let run_id = runs[0]["id"].as_str().unwrap().to_string();
    let run = server.wait_run(&run_id);
    assert_eq!(run["status"], "failed");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("dead-letter queue `jobs.dlq`"),
        "{run}"
    );
    let attempts = run["steps"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "max_receive_count deliveries: {run}");
    assert!(
        attempts[0]["error"]
            .as_str()
            .unwrap()
            .contains("not fixed yet"),
        "stderr tail in the error: {run}"
    );
    assert_eq!(attempts[0]["exit_code"], 3);

    let dead = server.cli_json(&["dlq", "list", "jobs"]);
    assert_eq!(dead.as_array().unwrap().len(), 1, "{dead}");
    assert_eq!(dead[0]["run_id"], run_id.as_str());
    assert_eq!(dead[0]["source_queue"], "jobs");

    std::fs::write(dir.join("ok"), "").unwrap();
    let moved = server.cli_json(&["dlq", "redrive", "jobs"]);
    assert_eq!(moved["moved"], 1);
    let run = server.wait_run(&run_id);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["output"], json!({ "fixed": true }));
    assert_eq!(run["steps"][0]["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(
        server
            .cli_json(&["dlq", "list", "jobs"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn rerun_of_one_step_keeps_the_other_steps_results() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = setup(&tmp.path().join("p"));
    let server = Server::start(&dir, &tmp.path().join("data"));

    let out = server.cli(&["--json", "start", "two-steps"]);
    assert!(
        !out.status.success(),
        "a failed run makes `start` exit non-zero"
    );
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["status"], "failed", "{run}");
    let run_id = run["id"].as_str().unwrap();
    assert_eq!(run["steps"][0]["status"], "succeeded");
    assert_eq!(run["steps"][1]["status"], "failed");

    std::fs::write(dir.join("ok"), "").unwrap();
    let out = server.cli(&["rerun", run_id, "--step", "second"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = server.get(&format!("/v1/runs/{run_id}"));
    assert_eq!(run["status"], "succeeded");
    assert_eq!(
        run["steps"][0]["attempts"].as_array().unwrap().len(),
        1,
        "first step not redone"
    );
    assert_eq!(
        run["steps"][1]["attempts"].as_array().unwrap().len(),
        2,
        "both attempts of the second step are kept"
    );
    assert_eq!(
        run["steps"][1]["attempts"][1]["input"],
        json!({ "from": "first" }),
        "input comes from the kept step"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("first-ran"))
            .unwrap()
            .lines()
            .count(),
        1
    );

    let bad = server.cli(&["rerun", run_id, "--step", "secnd"]);
    assert!(
        stderr(&bad).contains("did you mean `second`"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_handler_that_never_exits_is_killed_at_its_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = setup(&tmp.path().join("p"));
    let server = Server::start(&dir, &tmp.path().join("data"));
    let accepted = server.post("/v1/functions/sleeper/invoke", &json!({}));
    let run = server.wait_run(accepted["run_id"].as_str().unwrap());
    let attempt = &run["steps"][0]["attempts"][0];
    assert_eq!(attempt["status"], "timed_out", "{run}");
    let took = attempt["finished_at"].as_i64().unwrap() - attempt["started_at"].as_i64().unwrap();
    assert!(
        took < 10_000,
        "killed soon after the 1s timeout, took {took} ms"
    );
}

#[test]
fn a_handler_that_prints_non_json_fails_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = setup(&tmp.path().join("p"));
    let server = Server::start(&dir, &tmp.path().join("data"));
    let out = server.cli(&["invoke", "chatty"]);
    assert!(!out.status.success());
    let run_id = server.get("/v1/runs?target=chatty")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let run = server.get(&format!("/v1/runs/{run_id}"));
    let error = run["steps"][0]["attempts"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("JSON") && error.contains("this is not json"),
        "{error}"
    );
}

#[test]
fn cancelling_a_running_run_stops_its_handler() {
    let tmp = tempfile::tempdir().unwrap();
    let project_yaml = "version: 1\nfunctions:\n  slow:\n    run: sh slow.sh\n    timeout: 10m\n  chatty:\n    run: echo not json\n    retry: { max_attempts: 1 }\n";
    let slow = "cat > /dev/null\necho $$ > pid\necho started >&2\nexec sleep 600\n";
    let dir = project(&tmp.path().join("p"), project_yaml, &[("slow.sh", slow)]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let accepted = server.post("/v1/functions/slow/invoke", &json!({}));
    let run_id = accepted["run_id"].as_str().unwrap();
    // Wait for the handler to start: its log line arrives through the long-poll.
    let logs = server.get(&format!("/v1/runs/{run_id}/logs?wait=20"));
    let mut after = logs["next_after"].as_i64().unwrap();
    let mut seen: Vec<String> = logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_str().unwrap().to_string())
        .collect();
    while !seen.iter().any(|l| l == "started") {
        let page = server.get(&format!("/v1/runs/{run_id}/logs?after={after}&wait=20"));
        after = page["next_after"].as_i64().unwrap();
        seen.extend(
            page["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["line"].as_str().unwrap().to_string()),
        );
    }
    let pid: u32 = std::fs::read_to_string(dir.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();

    let out = server.cli(&["cancel", run_id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = server.get(&format!("/v1/runs/{run_id}"));
    assert_eq!(run["status"], "cancelled");
    assert_eq!(
        run["steps"][0]["attempts"][0]["status"], "abandoned",
        "{run}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the handler {pid} still runs after the cancel"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let again = server.cli(&["cancel", run_id]);
    assert!(
        again.status.success(),
        "cancelling twice is harmless: {}",
        stderr(&again)
    );
    let done = server.post("/v1/functions/chatty/invoke?wait=30", &json!({}));
    let refused = server.cli(&["cancel", done["id"].as_str().unwrap()]);
    assert!(
        stderr(&refused).contains("is already failed"),
        "a finished run cannot be cancelled: {}",
        stderr(&refused)
    );
}
