//! The built-in `table-put`: records from the previous phase written into a
//! declared table, every value checked against its declaration, problems
//! named by record index, and a retried step writing once.

mod common;

use common::*;
use serde_json::json;

const PROJECT: &str = r#"
version: 1
tables:
  scores:
    columns:
      player: { type: string, required: true }
      round: { type: integer, required: true }
      points: { type: integer, min: 0 }
    key: { partition: player, sort: round }
pipelines:
  strict:
    retry: { max_attempts: 1 }
    phases:
      - { name: put, uses: table-put, with: { table: scores, records: "$.scores" } }
  lenient:
    retry: { max_attempts: 1 }
    phases:
      - { name: put, uses: table-put, with: { table: scores, records: "$.scores", policy: load-valid } }
"#;

#[test]
fn records_are_checked_written_and_refused_by_index() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let scores = json!({ "scores": [
        { "player": "ada", "round": 1, "points": 10 },
        { "player": "ada", "round": 2, "points": -3 },
        { "player": "bob", "round": 1 },
    ] });

    let run = server.post("/v1/pipelines/strict/runs?wait=30", &scores);
    assert_eq!(run["status"], "failed", "{run}");
    let error = run["error"].as_str().unwrap();
    assert!(
        error.contains("nothing written into `scores`")
            && error.contains("record 1, field `points`"),
        "{error}"
    );
    let ada = server.get("/v1/tables/scores/items?pk=ada");
    assert_eq!(
        ada["items"].as_array().unwrap().len(),
        0,
        "all-or-nothing: {ada}"
    );

    let run = server.post("/v1/pipelines/lenient/runs?wait=30", &scores);
    assert_eq!(run["status"], "succeeded", "{run}");
    let output = &run["output"];
    assert_eq!(output["status"], "partial", "{output}");
    assert_eq!(output["written"], 2, "{output}");
    assert_eq!(output["problems"][0]["record"], 1, "{output}");
    assert_eq!(output["problems"][0]["field"], "points", "{output}");
    let ada = server.get("/v1/tables/scores/items?pk=ada");
    assert_eq!(
        ada["items"],
        json!([{ "player": "ada", "round": 1, "points": 10 }]),
        "{ada}"
    );

    let unknown = json!({ "scores": [{ "player": "cy", "round": 1, "bonus": 5 }] });
    let run = server.post("/v1/pipelines/strict/runs?wait=30", &unknown);
    assert_eq!(run["status"], "failed", "{run}");
    assert!(run["error"].as_str().unwrap().contains("bonus"), "{run}");

    let run = server.post(
        "/v1/pipelines/strict/runs?wait=30",
        &json!({ "scores": "many" }),
    );
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("`records` `$.scores` is not a list"),
        "{run}"
    );
}
