//! `runtime: lambda` through the real binary: an unmodified handler on the
//! official Python runtime client (`awslambdaric`), kept warm between
//! invocations, its reported errors kept with type and stack trace, and its
//! progress landing on the run.

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::Command;

/// The absolute path of `python3` (handlers get a clean `PATH`), with
/// awslambdaric importable; installed from PyPI when missing, failing loudly
/// when that is impossible.
fn python_with_awslambdaric() -> String {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 is needed");
    let python = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let importable = || {
        Command::new(&python)
            .args(["-c", "import awslambdaric"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !importable() {
        let installed = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "awslambdaric"])
            .status();
        assert!(
            installed.is_ok_and(|s| s.success()) && importable(),
            "awslambdaric could not be installed from PyPI"
        );
    }
    python
}

const APP: &str = r#"
import json, os, urllib.request

def handler(event, context):
    if event.get("fail"):
        raise ValueError("no such order: %s" % event["fail"])
    url = os.environ["SLUICE_PROGRESS_URL"]
    body = json.dumps({"done": 1, "total": 2, "message": "half way"}).encode()
    urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"}))
    print("working on", event.get("name"))
    return {"hello": event.get("name"), "request_id": context.aws_request_id, "pid": os.getpid()}
"#;

fn project_yaml(python: &str) -> String {
    format!(
        r#"
version: 1
functions:
  hello:
    runtime: lambda
    run: ["{python}", "-m", "awslambdaric", "app.handler"]
    handler: app.handler
    concurrency: 1
    memory: 512MiB
    retry: {{ max_attempts: 1 }}
"#
    )
}

#[test]
fn an_unmodified_awslambdaric_handler_runs_warm_with_errors_and_progress() {
    let python = python_with_awslambdaric();
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(
        &tmp.path().join("p"),
        &project_yaml(&python),
        &[("app.py", APP)],
    );
    let server = Server::start(&dir, &tmp.path().join("data"));

    let invoke = |event: Value| {
        let accepted = server.post("/v1/functions/hello/invoke", &event);
        server.wait_run(accepted["run_id"].as_str().unwrap())
    };
    let first = invoke(json!({ "name": "Ada" }));
    assert_eq!(first["status"], "succeeded", "{first}");
    assert_eq!(first["output"]["hello"], "Ada");
    let attempt_id = first["steps"][0]["attempts"][0]["id"].as_str().unwrap();
    assert_eq!(
        first["output"]["request_id"], attempt_id,
        "the request id is the attempt id"
    );
    let second = invoke(json!({ "name": "Grace" }));
    assert_eq!(
        second["output"]["pid"], first["output"]["pid"],
        "the same warm process served both"
    );

    let logs = server.get(&format!("/v1/runs/{}/logs", second["id"].as_str().unwrap()));
    let lines = logs["lines"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l["line"].as_str().unwrap().contains("working on Grace")),
        "{logs}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["line"].as_str().unwrap().contains("(warm")),
        "{logs}"
    );
    let progress = lines
        .iter()
        .find(|l| l["stream"] == "progress")
        .expect("a progress line");
    let report: Value = serde_json::from_str(progress["line"].as_str().unwrap()).unwrap();
    assert_eq!(
        report,
        json!({ "done": 1, "total": 2, "message": "half way" })
    );

    let failed = invoke(json!({ "fail": "A-7" }));
    assert_eq!(failed["status"], "failed");
    let attempt = &failed["steps"][0]["attempts"][0];
    assert_eq!(attempt["output"]["errorType"], "ValueError", "{attempt}");
    assert_eq!(attempt["output"]["errorMessage"], "no such order: A-7");
    let trace = attempt["output"]["stackTrace"].as_array().unwrap();
    assert!(
        trace
            .iter()
            .any(|frame| frame.as_str().unwrap().contains("app.py")),
        "{attempt}"
    );
    assert!(
        attempt["error"]
            .as_str()
            .unwrap()
            .starts_with("ValueError: no such order"),
        "{attempt}"
    );
}

const BIG_APP: &str = r#"
import json, boto3

def handler(event, context):
    ref = event.get("sluice_payload_ref")
    if ref:
        body = boto3.client("s3").get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
        return {"by_reference": True, "length": len(json.loads(body)["blob"])}
    return {"by_reference": False, "length": len(event["blob"])}
"#;

/// An event above the function's `max_payload` is not refused: it is stored
/// in the payload bucket and the handler reads it by reference, with boto3
/// and the credentials Sluice gave it.
#[test]
fn an_event_larger_than_the_payload_limit_is_passed_by_reference() {
    let python = python_with_awslambdaric();
    let tmp = tempfile::tempdir().unwrap();
    let yaml = format!(
        "version: 1\nfunctions:\n  big:\n    runtime: lambda\n    run: [\"{python}\", \"-m\", \"awslambdaric\", \"app.handler\"]\n    handler: app.handler\n    max_payload: 1KiB\n    retry: {{ max_attempts: 1 }}\n"
    );
    let dir = project(&tmp.path().join("p"), &yaml, &[("app.py", BIG_APP)]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let small = server.post(
        "/v1/functions/big/invoke?wait=60",
        &json!({ "blob": "x".repeat(10) }),
    );
    assert_eq!(
        small["output"],
        json!({ "by_reference": false, "length": 10 }),
        "{small}"
    );
    let large = server.post(
        "/v1/functions/big/invoke?wait=60",
        &json!({ "blob": "y".repeat(200_000) }),
    );
    assert_eq!(large["status"], "succeeded", "{}", large["error"]);
    assert_eq!(
        large["output"],
        json!({ "by_reference": true, "length": 200_000 })
    );
}
