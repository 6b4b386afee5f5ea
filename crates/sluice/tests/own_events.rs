//! Sluice's own events on the bus: run succeeded/failed, step failed and
//! message dead-lettered reach the targets of rules that match them, and a
//! rule whose target fails on every failure event stops after a bounded
//! number of generations instead of cascading forever.

mod common;

use common::*;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

const PROJECT: &str = r#"
version: 1
functions:
  broken:
    run: sh -c "cat >/dev/null; echo boom >&2; exit 1"
    retry: { max_attempts: 1 }
  record:
    run: cat
queues:
  done: {}
  dead: {}
  steps: {}
pipelines:
  etl:
    retry: { max_attempts: 1 }
    phases:
      - { name: load, function: broken }
  nightly:
    phases:
      - { name: ok, function: record }
rules:
  failed-runs:
    pattern: { source: [sluice.runs], detail-type: [Run Failed] }
    targets:
      - function: broken
      - function: record
        input: { failed: "$.detail.run_id", pipeline: "$.detail.pipeline", error: "$.detail.error", link: "$.detail.links.run", depth: "$.detail.depth" }
  nightly-done:
    # Envelope fields too (account, region, time) are matched as on any event.
    pattern: { source: [sluice.runs], detail-type: [Run Succeeded], account: [sluice], region: [local], time: [{ prefix: "20" }], detail: { pipeline: [nightly] } }
    targets: [{ queue: done }]
  dead-letters:
    pattern: { source: [sluice.queues], detail-type: [Message Dead-Lettered] }
    targets: [{ queue: dead }]
  step-failures:
    pattern: { source: [sluice.runs], detail-type: [Step Failed], detail: { pipeline: [etl] } }
    targets: [{ queue: steps }]
"#;

#[test]
fn runs_announce_their_end_on_the_bus_and_failure_loops_are_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[]);
    let mut server = Server::start_with(&dir, &tmp.path().join("data"), &[], &[], Stdio::piped());
    // The server's log says when the loop guard stops a chain: wait for that line.
    let stderr = server.child.stderr.take().unwrap();
    let (guard_tx, guard_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("event not published") {
                let _ = guard_tx.send(line);
            }
        }
    });

    let ok = server.post("/v1/pipelines/nightly/runs", &json!({ "day": 1 }));
    let done = server.wait_for_messages("done", 1);
    let event = &done[0]["body"];
    assert_eq!(event["source"], "sluice.runs");
    assert_eq!(event["detail-type"], "Run Succeeded");
    assert_eq!(event["detail"]["run_id"], ok["run_id"]);
    assert_eq!(event["detail"]["pipeline"], "nightly");
    assert_eq!(event["detail"]["status"], "succeeded");
    assert_eq!(
        event["detail"]["links"]["run"],
        format!("/v1/runs/{}", ok["run_id"].as_str().unwrap())
    );

    let failed = server.post("/v1/pipelines/etl/runs", &json!({ "day": 2 }));
    let failed_id = failed["run_id"].as_str().unwrap();
    let run = server.wait_run(failed_id);
    assert_eq!(run["status"], "failed");

    let step = &server.wait_for_messages("steps", 1)[0]["body"];
    assert_eq!(step["detail-type"], "Step Failed");
    assert_eq!(step["detail"]["step"], "load");
    assert!(
        step["detail"]["error"].as_str().unwrap().contains("exit"),
        "{step}"
    );
    let dead = server.wait_for_messages("dead", 1);
    let dead = dead
        .iter()
        .map(|m| &m["body"])
        .find(|e| e["detail"]["run_id"] == failed_id)
        .expect("the pipeline run's dead letter was announced");
    assert_eq!(dead["detail-type"], "Message Dead-Lettered");
    assert_eq!(dead["detail"]["queue"], "pipeline.etl");

    // The rule sends every failure to `broken`, which fails too: each failure
    // is a new `Run Failed`. The chain must stop at the depth limit.
    let stopped = guard_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the loop guard never stopped the chain of failures");
    assert!(stopped.contains("depth"), "{stopped}");
    let broken = server.get("/v1/runs?target=broken&limit=100");
    let depths: Vec<&str> = broken
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["trigger"].as_str().unwrap())
        .collect();
    assert_eq!(
        depths.len(),
        3,
        "one run of `broken` per generation up to the limit: {depths:?}"
    );
    assert!(depths.contains(&"rule:failed-runs?depth=3"), "{depths:?}");
    let first_record = server.get("/v1/runs?target=record&limit=100");
    let first = first_record
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["trigger"] == "rule:failed-runs?depth=1")
        .expect("`record` got the first failure");
    let first = server.wait_run(first["id"].as_str().unwrap());
    assert_eq!(
        first["output"],
        json!({ "failed": failed_id, "pipeline": "etl", "error": run["error"], "link": format!("/v1/runs/{failed_id}"), "depth": 0 })
    );
}
