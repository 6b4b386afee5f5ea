//! Handlers built with AWS's official runtime clients run unchanged: the Python
//! `awslambdaric` from PyPI and a Rust binary on the `lambda_runtime` crate.
//! Also the warm pool: reuse, cold-start timing, concurrency bound, idle stop.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::lambda::{invoke, python_spec, rust_spec};
use common::wait_gone;
use serde_json::json;
use std::sync::Arc;

use sluice_runtime::{CallerContext, ErrorKind, LambdaRuntime, MemorySink, ProgressReport, Stream};

#[tokio::test]
async fn awslambdaric_handler_runs_warm_with_the_lambda_context() {
    // A variable of Sluice's own environment must never reach the handler.
    std::env::set_var("SLUICE_TEST_LEAK_CANARY", "secret");
    let mut spec = python_spec("py-echo");
    spec.env.insert("DECLARED".into(), "yes".into());
    spec.memory_mb = Some(1024);
    let rt = LambdaRuntime::new(spec);

    let (first, logs) = invoke(&rt, json!({"n": 1})).await;
    let timing = first.timing();
    let out = first.into_result().unwrap();
    assert_eq!(out["echo"], json!({"n": 1}));
    assert!(out["request_id"].as_str().unwrap().starts_with("req-"));
    assert_eq!(out["function"], "py-echo");
    assert_eq!(out["memory_mb"], "1024");
    assert_eq!(out["handler_env"], "app.handler");
    assert_eq!(out["region"], "us-east-1");
    assert_eq!(
        out["arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:py-echo"
    );
    assert_eq!(out["declared"], "yes");
    assert!(
        out["leaked"].is_null(),
        "Sluice's environment leaked: {out}"
    );
    let remaining = out["remaining_ms"].as_u64().unwrap();
    assert!(remaining > 50_000 && remaining <= 60_000, "{remaining}");
    assert!(timing.cold_start && timing.init_us > 0, "{timing:?}");
    let line = logs
        .lines()
        .into_iter()
        .find(|l| l.text.starts_with("handling"))
        .unwrap();
    assert_eq!(line.stream, Stream::Stdout);
    assert_eq!(line.request_id.as_deref(), out["request_id"].as_str());

    let (second, _) = invoke(&rt, json!({"n": 2})).await;
    let timing = second.timing();
    let out2 = second.into_result().unwrap();
    assert_eq!(out2["pid"], out["pid"], "the warm process was not reused");
    assert!(!timing.cold_start && timing.init_us == 0, "{timing:?}");
    assert!(timing.handler_us <= timing.total_us, "{timing:?}");
}

#[tokio::test]
async fn client_context_and_cognito_identity_reach_the_handler() {
    let rt = LambdaRuntime::new(python_spec("py-caller"));
    let caller = CallerContext {
        client_context: Some(r#"{"client": {}, "custom": {"k": "v"}, "env": {}}"#.into()),
        cognito_identity: Some(
            r#"{"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool"}"#.into(),
        ),
    };
    let mut inv = common::invocation(json!({}));
    inv.function = "py-caller".into();
    let result = rt
        .invoke_with_caller(inv, Arc::new(MemorySink::new()), caller)
        .await;
    let out = result.into_result().unwrap();
    assert_eq!(out["cognito_identity_id"], "id-1");
    assert_eq!(out["client_custom"], json!({"k": "v"}));
}

#[tokio::test]
async fn awslambdaric_errors_keep_type_message_and_stack_trace() {
    let rt = LambdaRuntime::new(python_spec("py-fail"));
    let err = invoke(&rt, json!({"fail": "bad input"}))
        .await
        .0
        .into_result()
        .unwrap_err();
    assert_eq!(err.message, "bad input");
    let ErrorKind::HandlerReported {
        error_type,
        stack_trace,
    } = err.kind
    else {
        panic!("{err:?}")
    };
    assert_eq!(error_type, "ValueError");
    assert!(
        stack_trace.iter().any(|f| f.contains("app.py")),
        "{stack_trace:?}"
    );
    // A reported error leaves the process healthy and warm.
    let (ok, _) = invoke(&rt, json!({})).await;
    assert!(ok.is_success() && !ok.timing().cold_start);
}

#[tokio::test]
async fn progress_reaches_the_sink_over_http_and_stdout() {
    let rt = LambdaRuntime::new(python_spec("py-progress"));
    let (result, logs) = invoke(&rt, json!({"progress": true})).await;
    assert!(result.is_success(), "{result:?}");
    assert_eq!(
        logs.progress_reports(),
        vec![
            ProgressReport {
                done: 1,
                total: Some(2),
                message: Some("half way".into())
            },
            ProgressReport {
                done: 2,
                total: Some(2),
                message: None
            },
        ]
    );
    assert!(!logs
        .texts()
        .iter()
        .any(|t| t.starts_with("SLUICE_PROGRESS")));
}

#[tokio::test]
async fn rust_lambda_runtime_handler_runs_unchanged() {
    let rt = LambdaRuntime::new(rust_spec("rust-echo"));
    let (first, _) = invoke(&rt, json!({"echo": "hi"})).await;
    assert!(first.timing().cold_start);
    let out = first.into_result().unwrap();
    assert_eq!(out["echo"], "hi");
    assert_eq!(out["function"], "rust-echo");
    assert!(out["request_id"].as_str().unwrap().starts_with("req-"));
    assert!(out["deadline_ms"].as_u64().unwrap() > 0);

    let err = invoke(&rt, json!({"fail": "nope"}))
        .await
        .0
        .into_result()
        .unwrap_err();
    assert_eq!(err.message, "nope");
    assert!(
        matches!(err.kind, ErrorKind::HandlerReported { .. }),
        "{err:?}"
    );

    let (warm, _) = invoke(&rt, json!([1, 2, 3])).await;
    assert!(!warm.timing().cold_start);
    assert_eq!(warm.into_result().unwrap(), json!([1, 2, 3]));
}

#[tokio::test]
async fn concurrency_bounds_the_processes() {
    let mut spec = rust_spec("rust-concurrent");
    spec.concurrency = 2;
    let rt = LambdaRuntime::new(spec);
    let calls = (0..16).map(|i| invoke(&rt, json!({"i": i})));
    let results = futures_join_all(calls).await;
    let cold = results
        .iter()
        .filter(|(r, _)| r.timing().cold_start)
        .count();
    assert!(results.iter().all(|(r, _)| r.is_success()));
    assert!(
        (1..=2).contains(&cold),
        "{cold} cold starts with concurrency 2"
    );
    assert!(rt.idle_pids().len() <= 2);
    let distinct: HashSet<u32> = rt.idle_pids().into_iter().collect();
    assert_eq!(distinct.len(), rt.idle_pids().len());
}

#[tokio::test]
async fn idle_processes_are_stopped_after_the_idle_timeout() {
    let mut spec = rust_spec("rust-idle");
    spec.idle_timeout = Duration::from_millis(200);
    let rt = LambdaRuntime::new(spec);
    assert!(invoke(&rt, json!({})).await.0.is_success());
    let pids = rt.idle_pids();
    assert_eq!(pids.len(), 1);
    assert!(
        wait_gone(pids[0]).await,
        "idle process {} was not stopped",
        pids[0]
    );
    assert!(invoke(&rt, json!({})).await.0.timing().cold_start);
}

#[tokio::test]
async fn dropping_the_runtime_stops_its_processes() {
    let rt = LambdaRuntime::new(rust_spec("rust-drop"));
    assert!(invoke(&rt, json!({})).await.0.is_success());
    let pids = rt.idle_pids();
    drop(rt);
    for pid in pids {
        assert!(wait_gone(pid).await, "process {pid} outlived its runtime");
    }
}

/// Runs futures concurrently on the current task (no extra dependency).
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut outputs: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => outputs[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}
