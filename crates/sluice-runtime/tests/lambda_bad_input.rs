//! Misbehaving Lambda handlers: each ends as a clear attempt error, its process
//! (and anything it forked) is reclaimed, and the next invocation still works.
//! The handler is a hand-written Runtime API client (`fixtures/raw_runtime.py`).

mod common;

use std::time::{Duration, Instant};

use common::lambda::{invoke, invoke_within, raw_spec};
use common::{read_pids, wait_gone};
use serde_json::json;
use sluice_runtime::{ErrorKind, HandlerError, LambdaRuntime};

async fn fail(rt: &LambdaRuntime, payload: serde_json::Value) -> HandlerError {
    invoke(rt, payload).await.0.into_result().unwrap_err()
}

/// After a failure the pool holds no process, and the next call starts fresh.
async fn assert_replaced(rt: &LambdaRuntime) {
    assert!(rt.idle_pids().is_empty(), "a failed process was kept warm");
}

#[tokio::test]
async fn a_handler_that_never_calls_next_times_out_and_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let rt = LambdaRuntime::new(raw_spec("never-next"));
    let started = Instant::now();
    let (result, _) = invoke_within(&rt, json!({}), Duration::from_millis(500)).await;
    let err = result.into_result().unwrap_err();
    assert!(matches!(err.kind, ErrorKind::TimedOut { .. }), "{err:?}");
    assert!(
        err.message.contains("never asked for an event"),
        "{}",
        err.message
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_replaced(&rt).await;
    drop(dir);
}

#[tokio::test]
async fn a_warm_handler_past_its_timeout_is_killed_and_replaced() {
    let mut spec = raw_spec("sleep");
    // Long enough for a cold start on a loaded machine, far below the sleep.
    spec.timeout = Duration::from_secs(3);
    let rt = LambdaRuntime::new(spec);
    let pid = invoke(&rt, json!({})).await.0.into_result().unwrap()["pid"]
        .as_u64()
        .unwrap() as u32;
    let err = fail(&rt, json!({"sleep": 100})).await;
    assert!(matches!(err.kind, ErrorKind::TimedOut { .. }), "{err:?}");
    assert!(
        err.message.contains("did not answer request"),
        "{}",
        err.message
    );
    assert!(wait_gone(pid).await);
    let (next, _) = invoke(&rt, json!({})).await;
    assert!(next.timing().cold_start && next.is_success());
}

#[tokio::test]
async fn answering_twice_is_refused_with_403() {
    let rt = LambdaRuntime::new(raw_spec("double-response"));
    assert_eq!(
        invoke(&rt, json!({})).await.0.into_result().unwrap(),
        json!({"first": true})
    );
    let second = invoke(&rt, json!({})).await.0.into_result().unwrap();
    assert_eq!(second["second_status"], 403, "{second}");
}

#[tokio::test]
async fn answering_an_unknown_id_then_asking_for_more_is_a_protocol_violation() {
    let rt = LambdaRuntime::new(raw_spec("unknown-id"));
    let (result, logs) = invoke(&rt, json!({})).await;
    let err = result.into_result().unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::ProtocolViolation { .. }),
        "{err:?}"
    );
    assert!(
        err.message.contains("without answering request"),
        "{}",
        err.message
    );
    assert!(logs
        .texts()
        .iter()
        .any(|t| t.contains("bogus answer got 400") && t.contains("InvalidRequestID")));
    assert_replaced(&rt).await;
}

#[tokio::test]
async fn an_oversized_response_fails_with_413() {
    let mut spec = raw_spec("oversize");
    spec.max_payload_bytes = 1000;
    let rt = LambdaRuntime::new(spec);
    let err = fail(&rt, json!({})).await;
    assert!(
        matches!(err.kind, ErrorKind::OutputTooLarge { limit: 1000 }),
        "{err:?}"
    );
    // The handler saw the 413 and is still usable.
    assert!(fail(&rt, json!({})).await.message.contains("larger than"));
}

#[tokio::test]
async fn an_oversized_event_is_not_delivered() {
    let mut spec = raw_spec("sleep");
    spec.max_payload_bytes = 100;
    let rt = LambdaRuntime::new(spec);
    let err = fail(&rt, json!({"data": "z".repeat(200)})).await;
    assert!(
        matches!(err.kind, ErrorKind::PayloadTooLarge { limit: 100 }),
        "{err:?}"
    );
    assert!(
        rt.idle_pids().is_empty(),
        "no process should have been started"
    );
}

#[tokio::test]
async fn an_invalid_response_body_is_invalid_output() {
    let rt = LambdaRuntime::new(raw_spec("invalid"));
    let err = fail(&rt, json!({})).await;
    assert!(
        matches!(err.kind, ErrorKind::InvalidOutput { .. }),
        "{err:?}"
    );
    assert!(err.message.contains("not JSON"), "{}", err.message);
}

#[tokio::test]
async fn exiting_mid_invocation_fails_it_with_the_last_words_and_recovers() {
    let rt = LambdaRuntime::new(raw_spec("exit-mid"));
    let err = fail(&rt, json!({})).await;
    assert_eq!(
        err.kind,
        ErrorKind::ProcessExited {
            reason: "exited with status 3".into()
        },
        "{err:?}"
    );
    assert!(err.message.contains("about to die"), "{}", err.message);
    assert_replaced(&rt).await;
    let again = invoke(&rt, json!({})).await.0;
    assert!(
        again.timing().cold_start,
        "a crashed process must be replaced"
    );
}

#[tokio::test]
async fn children_forked_by_a_crashing_handler_are_killed() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pids");
    let rt = LambdaRuntime::new(raw_spec("fork"));
    let err = fail(&rt, json!({"pid_file": pid_file})).await;
    assert!(
        matches!(err.kind, ErrorKind::ProcessExited { .. }),
        "{err:?}"
    );
    for pid in read_pids(&pid_file).await {
        assert!(wait_gone(pid).await, "process {pid} outlived the handler");
    }
}

#[tokio::test]
async fn flooding_stdout_fails_the_invocation_and_stops_the_process() {
    let mut spec = raw_spec("flood");
    spec.max_log_bytes_per_invocation = 256 * 1024;
    let rt = LambdaRuntime::new(spec);
    let (result, logs) = invoke(&rt, json!({})).await;
    let err = result.into_result().unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::ProtocolViolation { .. }),
        "{err:?}"
    );
    assert!(err.message.contains("of logs"), "{}", err.message);
    let logged: usize = logs.texts().iter().map(|t| t.len() + 1).sum();
    assert!(logged <= 256 * 1024, "{logged} bytes logged");
    assert_replaced(&rt).await;
}

#[tokio::test]
async fn an_init_error_is_reported_with_its_type() {
    let rt = LambdaRuntime::new(raw_spec("init-error"));
    let err = fail(&rt, json!({})).await;
    let ErrorKind::HandlerReported { error_type, .. } = &err.kind else {
        panic!("{err:?}")
    };
    assert_eq!(error_type, "Runtime.InitError");
    assert!(err.message.contains("failed to initialise") && err.message.contains("config missing"));
}

#[tokio::test]
async fn the_memory_limit_is_enforced() {
    let mut spec = raw_spec("alloc");
    spec.memory_mb = Some(256);
    let rt = LambdaRuntime::new(spec);
    let small = invoke(&rt, json!({"bytes": 1 << 20}))
        .await
        .0
        .into_result()
        .unwrap();
    assert_eq!(small["allocated"], 1 << 20);
    // 512 MiB: MemoryError under RLIMIT_AS, an OOM kill under cgroups v2.
    match invoke(&rt, json!({"bytes": 512u64 << 20}))
        .await
        .0
        .into_result()
    {
        Ok(out) => assert_eq!(out["memory_error"], true, "{out}"),
        Err(err) => assert!(
            matches!(err.kind, ErrorKind::ProcessExited { .. }),
            "{err:?}"
        ),
    }
}

#[tokio::test]
async fn flooding_while_idle_stops_the_process() {
    let mut spec = raw_spec("flood-when-idle");
    spec.max_log_bytes_per_invocation = 256 * 1024;
    let rt = LambdaRuntime::new(spec);
    let out = invoke(&rt, json!({})).await.0.into_result().unwrap();
    let pid = out["pid"].as_u64().unwrap() as u32;
    assert!(
        wait_gone(pid).await,
        "the idle flooder {pid} was not stopped"
    );
    assert!(invoke(&rt, json!({})).await.0.timing().cold_start);
}

#[tokio::test]
async fn a_cancelled_invocation_stops_its_process() {
    let rt = LambdaRuntime::new(raw_spec("sleep"));
    let out = invoke(&rt, json!({})).await.0.into_result().unwrap();
    let pid = out["pid"].as_u64().unwrap() as u32;
    let call = invoke(&rt, json!({"sleep": 100}));
    assert!(tokio::time::timeout(Duration::from_millis(300), call)
        .await
        .is_err());
    assert!(
        wait_gone(pid).await,
        "process {pid} survived a cancelled invocation"
    );
    assert!(rt.idle_pids().is_empty());
}
