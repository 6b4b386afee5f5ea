//! Process lifetime with real processes: timeouts, cancellation and stragglers
//! must never leave a handler's processes running or hang the caller.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{call, invocation, read_pids, sh, wait_gone};
use serde_json::json;
use sluice_runtime::{ErrorKind, HandlerRuntime, MemorySink, OneshotProcess};

/// A handler that writes "<its pid> <background child pid>" to `pids` and then runs
/// `rest` (the shell script's tail).
fn handler(dir: &std::path::Path, rest: &str) -> (sluice_runtime::ProcessSpec, std::path::PathBuf) {
    let pids = dir.join("pids");
    let mut spec = sh(
        &format!("sleep 1000 & echo \"$$ $!\" > \"$PIDS\"; {rest}"),
        dir,
    );
    spec.env.insert("PIDS".into(), pids.display().to_string());
    (spec, pids)
}

async fn assert_all_gone(pids: &[u32]) {
    for &pid in pids {
        assert!(wait_gone(pid).await, "process {pid} is still alive");
    }
}

#[tokio::test]
async fn timeout_kills_the_process_and_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spec, pids) = handler(dir.path(), "sleep 1000");
    spec.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let (result, _) = call(&OneshotProcess::new(spec), json!({})).await;
    let err = result.into_result().unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::TimedOut { after } if after >= Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(err.message.contains("function timeout"), "{}", err.message);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_all_gone(&read_pids(&pids).await).await;
}

#[tokio::test]
async fn sigterm_ignoring_handler_is_killed_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spec, pids) = handler(dir.path(), "while true; do sleep 1; done");
    // Ignore SIGTERM before anything starts, so the background child ignores it too.
    spec.command[2] = format!("trap '' TERM; {}", spec.command[2]);
    spec.timeout = Duration::from_millis(200);
    let mut rt = OneshotProcess::new(spec);
    rt.kill_grace = Duration::from_millis(300);
    let started = Instant::now();
    let err = call(&rt, json!({})).await.0.into_result().unwrap_err();
    assert!(matches!(err.kind, ErrorKind::TimedOut { .. }), "{err:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "grace period was skipped"
    );
    assert_all_gone(&read_pids(&pids).await).await;
}

#[tokio::test]
async fn invocation_deadline_wins_over_a_longer_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let rt = OneshotProcess::new(sh("sleep 1000", dir.path()));
    let mut inv = invocation(json!({}));
    inv.deadline = Instant::now() + Duration::from_millis(200);
    let err = rt
        .invoke(inv, Arc::new(MemorySink::new()))
        .await
        .into_result()
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::TimedOut { .. }), "{err:?}");
    assert!(
        err.message.contains("invocation deadline"),
        "{}",
        err.message
    );

    let mut inv = invocation(json!({}));
    inv.deadline = Instant::now() - Duration::from_millis(1);
    let err = rt
        .invoke(inv, Arc::new(MemorySink::new()))
        .await
        .into_result()
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::TimedOut {
            after: Duration::ZERO
        }
    );
}

#[tokio::test]
async fn exit_with_a_child_holding_stdout_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, pids) = handler(dir.path(), "echo '{\"done\": true}'; echo bye >&2");
    let started = Instant::now();
    let (result, sink) = call(&OneshotProcess::new(spec), json!({})).await;
    assert_eq!(result.into_result().unwrap(), json!({"done": true}));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(sink.texts(), ["bye"]);
    assert_all_gone(&read_pids(&pids).await).await;
}

#[tokio::test]
async fn detached_stragglers_are_killed_when_the_handler_exits() {
    let dir = tempfile::tempdir().unwrap();
    // The background child does not hold the pipes, so only the final group kill stops it.
    let pids = dir.path().join("pids");
    let mut spec = sh(
        "sleep 1000 >/dev/null 2>&1 </dev/null & echo \"$$ $!\" > \"$PIDS\"",
        dir.path(),
    );
    spec.env.insert("PIDS".into(), pids.display().to_string());
    let (result, _) = call(&OneshotProcess::new(spec), json!({})).await;
    assert!(result.is_success());
    assert_all_gone(&read_pids(&pids).await).await;
}

#[tokio::test]
async fn dropping_the_invoke_future_kills_the_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, pids) = handler(dir.path(), "sleep 1000");
    let rt = Arc::new(OneshotProcess::new(spec));
    let task = tokio::spawn({
        let rt = rt.clone();
        async move {
            rt.invoke(invocation(json!({})), Arc::new(MemorySink::new()))
                .await
        }
    });
    let running = read_pids(&pids).await;
    assert!(running.iter().all(|&p| common::alive(p)));
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_all_gone(&running).await;
}
