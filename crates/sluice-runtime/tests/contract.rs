//! The handler I/O contract with real processes: payload on stdin, one JSON
//! document on stdout, logs on stderr, a clean environment, and clear errors.

mod common;

use std::time::Duration;

use common::{call, sh, spec};
use serde_json::{json, Value};
use sluice_runtime::{ErrorKind, HandlerRuntime, InvocationResult, OneshotProcess, Stream};

fn failed(result: InvocationResult) -> sluice_runtime::HandlerError {
    result.into_result().expect_err("the call should fail")
}

#[tokio::test]
async fn cat_echoes_the_payload() {
    let dir = tempfile::tempdir().unwrap();
    let payload = json!({"hello": [1, 2, 3], "nested": {"ok": true}});
    let (result, _) = call(
        &OneshotProcess::new(spec(&["cat"], dir.path())),
        payload.clone(),
    )
    .await;
    let timing = result.timing();
    assert_eq!(result.into_result().unwrap(), payload);
    assert!(timing.total_us >= timing.handler_us && timing.spawn_us > 0);
}

#[tokio::test]
async fn python_handler_reads_stdin_and_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let code = "import json,sys; d=json.load(sys.stdin); print(json.dumps({'sum': sum(d['xs'])}))";
    let rt = OneshotProcess::new(spec(&["python3", "-c", code], dir.path()));
    let (result, _) = call(&rt, json!({"xs": [1, 2, 39]})).await;
    assert_eq!(result.into_result().unwrap(), json!({"sum": 42}));
}

#[tokio::test]
async fn empty_stdout_is_null() {
    let dir = tempfile::tempdir().unwrap();
    let (result, _) = call(&OneshotProcess::new(sh("exit 0", dir.path())), json!(1)).await;
    assert_eq!(result.into_result().unwrap(), Value::Null);
}

#[tokio::test]
async fn non_json_output_is_invalid_output_with_an_excerpt() {
    let dir = tempfile::tempdir().unwrap();
    let rt = OneshotProcess::new(sh(
        "cat >/dev/null; echo starting up; echo '{\"a\":1}'",
        dir.path(),
    ));
    let err = failed(call(&rt, json!({})).await.0);
    let ErrorKind::InvalidOutput { reason, excerpt } = &err.kind else {
        panic!("{err:?}")
    };
    assert_eq!(excerpt, "starting up\n{\"a\":1}\n");
    assert!(
        reason.contains("single JSON document") && reason.contains("line 1 column 1"),
        "{reason}"
    );
    assert!(err.message.contains("starting up"), "{}", err.message);
    assert_eq!(err.exit_code, Some(0));
}

#[tokio::test]
async fn non_zero_exit_carries_code_and_stderr_tail() {
    let dir = tempfile::tempdir().unwrap();
    let rt = OneshotProcess::new(sh(
        "echo first >&2; echo 'ValueError: bad input' >&2; exit 3",
        dir.path(),
    ));
    let err = failed(call(&rt, json!({})).await.0);
    assert_eq!(err.kind, ErrorKind::NonZeroExit { code: 3 });
    assert_eq!(err.exit_code, Some(3));
    assert!(
        err.message.contains("exited with status 3"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("ValueError: bad input"),
        "{}",
        err.message
    );
    assert!(err.message.contains("fn-test"), "{}", err.message);
}

#[tokio::test]
async fn killed_by_a_signal_is_signalled() {
    let dir = tempfile::tempdir().unwrap();
    let err = failed(
        call(
            &OneshotProcess::new(sh("kill -9 $$", dir.path())),
            json!({}),
        )
        .await
        .0,
    );
    assert_eq!(err.kind, ErrorKind::Signalled { signal: 9 });
    assert!(err.message.contains("SIGKILL"), "{}", err.message);
}

#[tokio::test]
async fn stderr_lines_arrive_in_order_with_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let code = "import sys,time\nfor i in range(5):\n    print(f'line {i}', file=sys.stderr, flush=True)\n    time.sleep(0.05)";
    let rt = OneshotProcess::new(spec(&["python3", "-c", code], dir.path()));
    let (result, sink) = call(&rt, json!({})).await;
    assert!(result.is_success());
    let lines = sink.lines();
    let texts: Vec<_> = lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["line 0", "line 1", "line 2", "line 3", "line 4"]);
    assert!(lines.iter().all(|l| l.stream == Stream::Stderr));
    assert!(lines.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    // Taken as each line is read, not all at the end: they span the sleeps.
    assert!(lines[4].at_ms - lines[0].at_ms >= 150, "{lines:?}");
}

#[tokio::test]
async fn environment_is_only_declared_vars_and_sluice_context() {
    std::env::set_var("SLUICE_RUNTIME_TEST_SECRET", "must-not-leak");
    let dir = tempfile::tempdir().unwrap();
    let mut s = spec(
        &[
            "python3",
            "-c",
            "import json,os; print(json.dumps(dict(os.environ)))",
        ],
        dir.path(),
    );
    s.env.insert("GREETING".into(), "hi".into());
    let before = sluice_core::time::now_ms();
    let (result, _) = call(&OneshotProcess::new(s), json!({})).await;
    let env: std::collections::BTreeMap<String, String> =
        serde_json::from_value(result.into_result().unwrap()).unwrap();

    assert!(!env.contains_key("SLUICE_RUNTIME_TEST_SECRET"));
    assert!(!env.contains_key("CARGO_MANIFEST_DIR"));
    // LC_CTYPE: Python itself adds it when the locale is C (PEP 538).
    let allowed = ["PATH", "HOME", "LANG", "GREETING", "LC_CTYPE"];
    for key in env.keys() {
        assert!(
            allowed.contains(&key.as_str()) || key.starts_with("SLUICE_"),
            "unexpected {key}"
        );
    }
    assert_eq!(env["GREETING"], "hi");
    assert_eq!(env["PATH"], sluice_runtime::DEFAULT_PATH);
    assert_eq!(env["SLUICE_RUN_ID"], "run-1");
    assert_eq!(env["SLUICE_STEP"], "step-a");
    assert_eq!(env["SLUICE_ATTEMPT_ID"], "att-1");
    assert_eq!(env["SLUICE_REQUEST_ID"], "req-1");
    assert_eq!(env["SLUICE_FUNCTION"], "fn-test");
    let deadline: i64 = env["SLUICE_DEADLINE_MS"].parse().unwrap();
    assert!(
        deadline > before + 50_000 && deadline <= sluice_core::time::now_ms() + 60_000,
        "{deadline}"
    );
}

#[tokio::test]
async fn twenty_megabyte_payload_round_trips_through_cat() {
    let dir = tempfile::tempdir().unwrap();
    let payload = json!({"blob": "x".repeat(20_000_000), "n": 7});
    let (result, _) = call(
        &OneshotProcess::new(spec(&["cat"], dir.path())),
        payload.clone(),
    )
    .await;
    assert!(result.into_result().unwrap() == payload);
}

#[tokio::test]
async fn handler_printing_before_reading_stdin_does_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let code = "import sys; sys.stdout.write('[' + '1,' * 500000 + '1]'); sys.stdout.flush(); sys.stdin.read()";
    let rt = OneshotProcess::new(spec(&["python3", "-c", code], dir.path()));
    let (result, _) = call(&rt, json!("y".repeat(5_000_000))).await;
    assert_eq!(
        result.into_result().unwrap().as_array().unwrap().len(),
        500_001
    );
}

#[tokio::test]
async fn handler_ignoring_stdin_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let (result, _) = call(
        &OneshotProcess::new(sh("echo 1", dir.path())),
        json!("z".repeat(1_000_000)),
    )
    .await;
    assert_eq!(result.into_result().unwrap(), json!(1));
}

#[tokio::test]
async fn output_over_the_limit_is_output_too_large() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = spec(&["yes"], dir.path());
    s.max_output_bytes = 1000;
    let err = failed(call(&OneshotProcess::new(s), json!({})).await.0);
    assert_eq!(err.kind, ErrorKind::OutputTooLarge { limit: 1000 });
}

#[tokio::test]
async fn missing_program_is_spawn_failed_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let rt = OneshotProcess::new(spec(&["no-such-handler-program-xyz", "arg"], dir.path()));
    let err = failed(call(&rt, json!({})).await.0);
    assert!(matches!(err.kind, ErrorKind::SpawnFailed { .. }), "{err:?}");
    assert!(
        err.message.contains("no-such-handler-program-xyz"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains(&dir.path().display().to_string()),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn missing_workdir_and_non_executable_program_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("missing");
    let err = failed(
        call(&OneshotProcess::new(spec(&["cat"], &gone)), json!({}))
            .await
            .0,
    );
    assert!(
        err.message.contains("working directory") && err.message.contains("missing"),
        "{}",
        err.message
    );

    std::fs::write(dir.path().join("handler.sh"), "#!/bin/sh\necho 5\n").unwrap();
    let err = failed(
        call(
            &OneshotProcess::new(spec(&["./handler.sh"], dir.path())),
            json!({}),
        )
        .await
        .0,
    );
    assert!(err.message.contains("not executable"), "{}", err.message);
}

#[tokio::test]
async fn relative_program_runs_from_the_workdir() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("handler.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\ncat >/dev/null\necho '{\"from\":\"script\"}'\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (result, _) = call(
        &OneshotProcess::new(spec(&["./handler.sh"], dir.path())),
        json!({}),
    )
    .await;
    assert_eq!(result.into_result().unwrap(), json!({"from": "script"}));
}

#[tokio::test]
async fn results_implement_the_trait_object() {
    let dir = tempfile::tempdir().unwrap();
    let rt: std::sync::Arc<dyn HandlerRuntime> =
        std::sync::Arc::new(OneshotProcess::new(spec(&["cat"], dir.path())));
    let mut inv = common::invocation(json!([1]));
    inv.deadline = std::time::Instant::now() + Duration::from_secs(30);
    let result = rt
        .invoke(inv, std::sync::Arc::new(sluice_runtime::NullSink))
        .await;
    assert_eq!(result.into_result().unwrap(), json!([1]));
}
