//! Fan-out inside a pipeline phase: one step per item, bounded parallelism,
//! results gathered in input order, failures tolerated up to a limit, and a
//! rerun that redoes only the items that failed.

mod common;

use common::*;
use serde_json::json;

const PROJECT: &str = r#"
version: 1
functions:
  split:
    run: cat
  square:
    # Fails for the item 3 until the file `ok` exists; squares the rest.
    run: sh square.sh
pipelines:
  squares:
    retry: { max_attempts: 1 }
    phases:
      - name: split
        function: split
      - name: square
        function: square
        fan_out: { over: "$.numbers", max_concurrency: 3 }
  tolerant:
    retry: { max_attempts: 1 }
    phases:
      - name: square
        function: square
        fan_out: { over: "$.numbers", tolerate_failures: "25%" }
"#;

const SQUARE: &str = r#"
n=$(cat)
echo "$n" >> seen
if [ "$n" = 3 ] && [ ! -f ok ]; then echo "three is not ready" >&2; exit 1; fi
echo $((n * n))
"#;

#[test]
fn items_run_in_parallel_and_gather_in_order_and_reruns_redo_only_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[("square.sh", SQUARE)]);
    let server = Server::start(&dir, &tmp.path().join("data"));

    let accepted = server.post(
        "/v1/pipelines/squares/runs",
        &json!({ "numbers": [1, 2, 3, 4, 5] }),
    );
    let run_id = accepted["run_id"].as_str().unwrap();
    let run = server.wait_run(run_id);
    assert_eq!(run["status"], "failed", "{run}");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("1 of 5 items failed (item 2: "),
        "{run}"
    );
    let names: Vec<&str> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "split",
            "square",
            "square[0]",
            "square[1]",
            "square[2]",
            "square[3]",
            "square[4]"
        ]
    );

    std::fs::write(dir.join("ok"), "").unwrap();
    std::fs::remove_file(dir.join("seen")).unwrap();
    let out = server.cli(&["rerun", run_id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = server.get(&format!("/v1/runs/{run_id}"));
    assert_eq!(
        run["output"],
        json!([1, 4, 9, 16, 25]),
        "gathered in input order"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("seen")).unwrap().trim(),
        "3",
        "without fail_fast every item ran; only the failed one runs again"
    );
}

#[test]
fn a_phase_that_can_no_longer_succeed_starts_no_more_items() {
    let tmp = tempfile::tempdir().unwrap();
    let yaml = PROJECT.replace("max_concurrency: 3", "max_concurrency: 1, fail_fast: true");
    let dir = project(&tmp.path().join("p"), &yaml, &[("square.sh", SQUARE)]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let accepted = server.post(
        "/v1/pipelines/squares/runs",
        &json!({ "numbers": [3, 1, 2, 4] }),
    );
    let run_id = accepted["run_id"].as_str().unwrap();
    let run = server.wait_run(run_id);
    assert_eq!(run["status"], "failed", "{run}");
    let error = run["error"].as_str().unwrap();
    assert!(error.contains("1 of 4 items failed (item 0: "), "{error}");
    assert!(error.contains("3 items not started"), "{error}");
    assert_eq!(
        std::fs::read_to_string(dir.join("seen")).unwrap().trim(),
        "3",
        "fail fast: no item started after the first failure"
    );

    // A rerun of the run starts the items that never ran.
    std::fs::write(dir.join("ok"), "").unwrap();
    let out = server.cli(&["rerun", run_id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = server.get(&format!("/v1/runs/{run_id}"));
    assert_eq!(run["output"], json!([9, 1, 4, 16]), "{run}");
}

#[test]
fn tolerated_failures_leave_null_in_their_place() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[("square.sh", SQUARE)]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let accepted = server.post(
        "/v1/pipelines/tolerant/runs",
        &json!({ "numbers": [1, 2, 3, 4] }),
    );
    let run = server.wait_run(accepted["run_id"].as_str().unwrap());
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["output"], json!([1, 4, null, 16]));
}

#[test]
fn fanning_out_over_something_that_is_not_a_list_fails_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[("square.sh", SQUARE)]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let accepted = server.post("/v1/pipelines/tolerant/runs", &json!({ "numbers": "many" }));
    let run = server.wait_run(accepted["run_id"].as_str().unwrap());
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("fan_out.over `$.numbers` is not a list (found a string)"),
        "{run}"
    );
}

#[test]
fn a_fan_out_of_a_million_items_is_refused_before_any_item_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[("square.sh", SQUARE)]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let numbers: Vec<u32> = (0..1_000_000).collect();
    let accepted = server.post(
        "/v1/pipelines/tolerant/runs",
        &json!({ "numbers": numbers }),
    );
    let run = server.wait_run(accepted["run_id"].as_str().unwrap());
    assert_eq!(run["status"], "failed", "{}", run["error"]);
    let error = run["error"].as_str().unwrap();
    assert!(
        error.contains("the fan-out has 1000000 items, more than the 99999"),
        "{error}"
    );
    assert!(
        !dir.join("seen").exists(),
        "no item may run when the list is refused"
    );
    let steps = run["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "only the phase's own step is recorded");
}
