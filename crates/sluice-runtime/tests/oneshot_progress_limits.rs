//! `OneshotProcess` handlers report progress (HTTP and stderr lines), their log
//! lines carry the request id, and their memory limit is enforced.

mod common;

use common::lambda::python;
use common::{call, spec};
use serde_json::json;
use sluice_runtime::{ErrorKind, OneshotProcess, ProgressReport};

const REPORTER: &str = r#"
import json, os, sys, urllib.request
body = json.dumps({"done": 5, "total": 10, "message": "halfway"}).encode()
urllib.request.urlopen(urllib.request.Request(os.environ["SLUICE_PROGRESS_URL"], data=body, method="POST")).read()
print('SLUICE_PROGRESS {"done": 10, "total": 10}', file=sys.stderr, flush=True)
print("a log line", file=sys.stderr, flush=True)
print(json.dumps({"ok": True}))
"#;

#[tokio::test]
async fn oneshot_progress_arrives_over_http_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let rt = OneshotProcess::new(spec(&[&python(), "-c", REPORTER], dir.path()));
    let (result, logs) = call(&rt, json!({})).await;
    assert_eq!(result.into_result().unwrap(), json!({"ok": true}));
    assert_eq!(
        logs.progress_reports(),
        vec![
            ProgressReport {
                done: 5,
                total: Some(10),
                message: Some("halfway".into())
            },
            ProgressReport {
                done: 10,
                total: Some(10),
                message: None
            },
        ]
    );
    let lines = logs.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].text, "a log line");
    assert_eq!(lines[0].request_id.as_deref(), Some("req-1"));
}

#[tokio::test]
async fn a_malformed_progress_line_stays_a_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let script = "echo 'SLUICE_PROGRESS not-json' >&2; echo null";
    let rt = OneshotProcess::new(common::sh(script, dir.path()));
    let (result, logs) = call(&rt, json!({})).await;
    assert!(result.is_success());
    assert!(logs.progress_reports().is_empty());
    assert_eq!(logs.texts(), vec!["SLUICE_PROGRESS not-json"]);
}

#[tokio::test]
async fn oneshot_memory_limit_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let script = "import sys\ntry:\n    b = bytearray(512 << 20)\n    print('null')\nexcept MemoryError:\n    sys.exit(7)\n";
    let mut process = spec(&[&python(), "-c", script], dir.path());
    process.memory_limit_bytes = Some(128 << 20);
    let err = call(&OneshotProcess::new(process), json!({}))
        .await
        .0
        .into_result()
        .unwrap_err();
    // MemoryError under RLIMIT_AS; an OOM kill under cgroups v2.
    assert!(
        matches!(
            err.kind,
            ErrorKind::NonZeroExit { code: 7 } | ErrorKind::Signalled { .. }
        ),
        "{err:?}"
    );
}
