//! Intermediate results larger than 256 KiB travel by reference: the step
//! records a reference to an object in `sluice-payloads`, and the next phase
//! (and the gathering of a fan-out) receives the full value.

mod common;

use common::*;
use serde_json::{json, Value};

const PROJECT: &str = r#"
version: 1
functions:
  produce:
    run: /usr/bin/python3 produce.py
  measure:
    run: /usr/bin/python3 measure.py
  expand:
    run: /usr/bin/python3 expand.py
  total:
    run: /usr/bin/python3 total.py
pipelines:
  big:
    phases:
      - { name: produce, function: produce }
      - { name: measure, function: measure }
      - name: expand
        function: expand
        fan_out: { over: "$.parts", max_concurrency: 3 }
      - { name: total, function: total }
"#;

const PRODUCE: &str = r#"import json, sys
sys.stdin.read()
print(json.dumps({"rows": ["x" * 100] * 30000, "parts": [1, 2, 3]}))
"#;
const MEASURE: &str = r#"import json, sys
d = json.load(sys.stdin)
print(json.dumps({"rows": len(d["rows"]), "chars": sum(map(len, d["rows"])), "parts": d["parts"]}))
"#;
const EXPAND: &str = r#"import json, sys
n = json.load(sys.stdin)
print(json.dumps({"n": n, "blob": "y" * 300000}))
"#;
const TOTAL: &str = r#"import json, sys
items = json.load(sys.stdin)
print(json.dumps({"items": [i["n"] for i in items], "chars": sum(len(i["blob"]) for i in items)}))
"#;

fn output_of<'a>(run: &'a Value, step: &str) -> &'a Value {
    &run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == step)
        .unwrap_or_else(|| panic!("no step {step}: {run}"))["output"]
}

#[test]
fn large_intermediate_results_are_passed_by_reference_and_resolved() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(
        &tmp.path().join("p"),
        PROJECT,
        &[
            ("produce.py", PRODUCE),
            ("measure.py", MEASURE),
            ("expand.py", EXPAND),
            ("total.py", TOTAL),
        ],
    );
    let server = Server::start(&dir, &tmp.path().join("data"));
    let accepted = server.post("/v1/pipelines/big/runs", &json!({}));
    let run = server.wait_run(accepted["run_id"].as_str().unwrap());
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(
        run["output"],
        json!({ "items": [1, 2, 3], "chars": 900000 })
    );
    let run = server.get(&format!("/v1/runs/{}", run["id"].as_str().unwrap()));

    let produced = &output_of(&run, "produce")["sluice_payload_ref"];
    assert_eq!(produced["bucket"], "sluice-payloads", "{run}");
    assert!(produced["size"].as_u64().unwrap() > 3_000_000, "{produced}");
    assert_eq!(
        output_of(&run, "measure"),
        &json!({ "rows": 30000, "chars": 3_000_000, "parts": [1, 2, 3] }),
        "the next phase got the whole 3 MB value; small outputs stay inline"
    );
    assert!(
        output_of(&run, "expand[0]")["sluice_payload_ref"].is_object(),
        "items too"
    );
    assert!(
        output_of(&run, "expand")["sluice_payload_ref"].is_object(),
        "and the gathered list"
    );
}
