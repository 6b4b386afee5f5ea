//! Per-invocation overhead of a process function, against the obvious
//! alternative measured in the same run: spawning the same process directly.
//!
//! Both sides run the same trivial handler (`cat`, which echoes the event) one
//! call at a time. Sluice's side goes the whole way a real invocation goes:
//! a run and a message committed to a file-backed SQLite store, the dispatcher
//! leasing it, a step and an attempt recorded, the process spawned with its
//! environment, the result parsed, the attempt, the run and the ack committed.
//! The overhead is the difference of the medians.
//!
//! Usage: `cargo run --release -p sluice-engine --example dispatch_bench -- [CALLS]`

use serde_json::json;
use sluice_core::time::system_clock;
use sluice_core::{Backoff, RunKind};
use sluice_engine::plan::{
    dead_letter_queue, function_queue, Consumer, FunctionPlan, Plan, QueuePlan,
};
use sluice_engine::{Engine, EngineOptions, Notice, SubmitRequest};
use sluice_runtime::{HandlerRuntime, Invocation, NullSink, OneshotProcess, ProcessSpec};
use sluice_store::sqlite::SqliteStore;
use sluice_store::QueueDef;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("state.db"), system_clock()).expect("open store"),
    );
    let engine = Engine::start(store, plan(dir.path()), EngineOptions::default())
        .await
        .expect("engine");
    let _dispatchers = engine.run_dispatchers();

    // Warm up both paths (page cache, first spawn).
    sluice_call(&engine).await;
    direct_call().await;

    let runtime = OneshotProcess::new(ProcessSpec::new(vec!["cat".into()], dir.path()));
    let mut sluice = Vec::with_capacity(calls);
    let mut direct = Vec::with_capacity(calls);
    let mut bare = Vec::with_capacity(calls);
    for _ in 0..calls {
        sluice.push(sluice_call(&engine).await);
        direct.push(direct_call().await);
        bare.push(runtime_call(&runtime).await);
    }
    let (s, d, r) = (median(&mut sluice), median(&mut direct), median(&mut bare));
    let (s95, d95, r95) = (p95(&mut sluice), p95(&mut direct), p95(&mut bare));
    println!("| path ({calls} sequential calls of `cat`) | median | p95 |");
    println!("|---|---:|---:|");
    println!(
        "| spawn the process directly (tokio::process) | {:.3} ms | {:.3} ms |",
        ms(d),
        ms(d95)
    );
    println!(
        "| the process runtime alone (no queue, no store) | {:.3} ms | {:.3} ms |",
        ms(r),
        ms(r95)
    );
    println!(
        "| `sluice` invoke → run recorded → result (SQLite, durable) | {:.3} ms | {:.3} ms |",
        ms(s),
        ms(s95)
    );
    println!(
        "| **dispatch overhead** (difference of medians) | **{:.3} ms** | |",
        ms(s.saturating_sub(d))
    );
    println!();
    println!(
        "ratio sluice/direct at the median: {:.2}x",
        s.as_secs_f64() / d.as_secs_f64()
    );
}

fn plan(dir: &std::path::Path) -> Plan {
    let mut spec = ProcessSpec::new(vec!["cat".into()], dir);
    spec.timeout = Duration::from_secs(30);
    let function = FunctionPlan {
        name: "echo".into(),
        runtime: Arc::new(OneshotProcess::new(spec)),
        concurrency: 4,
        timeout: Duration::from_secs(30),
        max_payload_bytes: None,
    };
    let queue = function_queue("echo");
    let dlq = dead_letter_queue(&queue);
    let def = |name: &str, dead: Option<String>| QueueDef {
        name: name.to_string(),
        visibility_timeout_ms: 30_000,
        max_receive_count: 3,
        dead_letter_queue: dead,
        concurrency: None,
        dedup_window_ms: 300_000,
        backoff: Backoff::default(),
    };
    let mut plan = Plan::default();
    plan.functions.insert("echo".into(), function);
    plan.queues.push(QueuePlan {
        def: def(&dlq, None),
        consumer: None,
        fifo: false,
        default_delay_ms: 0,
    });
    plan.queues.push(QueuePlan {
        def: def(&queue, Some(dlq)),
        consumer: Some(Consumer::Function("echo".into())),
        fifo: false,
        default_delay_ms: 0,
    });
    plan
}

async fn sluice_call(engine: &Engine) -> Duration {
    let mut notices = engine.hub().subscribe();
    let start = Instant::now();
    let request = SubmitRequest {
        kind: RunKind::Function,
        target: "echo".into(),
        input: json!({ "hello": "world" }),
        trigger: "bench".into(),
        idempotency_key: None,
    };
    let run_id = engine.submit(request).await.expect("submit").run_id;
    loop {
        if let Ok(Notice::RunFinished { run_id: id }) = notices.recv().await {
            if id == run_id {
                return start.elapsed();
            }
        }
    }
}

async fn runtime_call(runtime: &OneshotProcess) -> Duration {
    let start = Instant::now();
    let invocation = Invocation {
        request_id: "req".into(),
        run_id: "run".into(),
        step: "echo".into(),
        attempt_id: "att".into(),
        function: "echo".into(),
        payload: json!({ "hello": "world" }),
        deadline: Instant::now() + Duration::from_secs(30),
    };
    assert!(runtime
        .invoke(invocation, Arc::new(NullSink))
        .await
        .is_success());
    start.elapsed()
}

async fn direct_call() -> Duration {
    let start = Instant::now();
    let mut child = tokio::process::Command::new("cat")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn cat");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(json!({ "hello": "world" }).to_string().as_bytes())
        .await
        .expect("write");
    drop(stdin);
    let out = child.wait_with_output().await.expect("wait");
    let _: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    start.elapsed()
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn p95(v: &mut [Duration]) -> Duration {
    v.sort();
    v[(v.len() * 95 / 100).min(v.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
