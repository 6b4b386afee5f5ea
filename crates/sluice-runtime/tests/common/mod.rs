//! Helpers shared by the runtime's integration tests: building specs and
//! invocations, running a call with an in-memory log sink, and polling `/proc`
//! for processes that must be gone (bounded polls, never fixed sleeps).
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sluice_runtime::{
    HandlerRuntime, Invocation, InvocationResult, MemorySink, OneshotProcess, ProcessSpec,
};

pub fn spec(command: &[&str], workdir: &Path) -> ProcessSpec {
    let mut spec = ProcessSpec::new(command.iter().map(|s| s.to_string()).collect(), workdir);
    spec.timeout = Duration::from_secs(60);
    spec
}

pub fn sh(script: &str, workdir: &Path) -> ProcessSpec {
    spec(&["sh", "-c", script], workdir)
}

pub fn invocation(payload: Value) -> Invocation {
    Invocation {
        request_id: "req-1".into(),
        run_id: "run-1".into(),
        step: "step-a".into(),
        attempt_id: "att-1".into(),
        function: "fn-test".into(),
        payload,
        deadline: Instant::now() + Duration::from_secs(60),
    }
}

/// Invokes `runtime` with `payload`, returning the result and the logs.
pub async fn call(runtime: &OneshotProcess, payload: Value) -> (InvocationResult, Arc<MemorySink>) {
    let sink = Arc::new(MemorySink::new());
    let result = runtime.invoke(invocation(payload), sink.clone()).await;
    (result, sink)
}

/// Whether `pid` is a live (non-zombie) process.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.trim_start().chars().next());
            !matches!(state, Some('Z') | Some('X') | None)
        }
    }
}

/// Polls until `pid` is gone; false if it is still alive after 10 s.
pub async fn wait_gone(pid: u32) -> bool {
    let give_up = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        if Instant::now() > give_up {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// Polls until `path` holds whitespace-separated pids; panics after 10 s.
pub async fn read_pids(path: &Path) -> Vec<u32> {
    let give_up = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if text.ends_with('\n') {
                return text
                    .split_whitespace()
                    .map(|p| p.parse().unwrap())
                    .collect();
            }
        }
        assert!(
            Instant::now() < give_up,
            "handler never wrote {}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
pub mod lambda;
