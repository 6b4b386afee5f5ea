//! The Lambda runtime benchmark behind `bench/lambda_bench.sh`: warm round trip
//! through the Runtime API (with Sluice's share separated from the handler's),
//! cold start, and throughput at concurrency 1, 2 and 8, for a trivial
//! `awslambdaric` handler and a trivial Rust `lambda_runtime` one.
//!
//! "Handler" time is what Sluice measures from handing the event out on
//! `GET /next` to receiving `/response`: the client library's HTTP handling
//! plus the handler itself. "Sluice" is the rest of the `invoke` call: picking
//! the warm process, delivering the event, waking the pending `/next`, and
//! completing the invocation from the answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sluice_runtime::{HandlerRuntime, Invocation, LambdaRuntime, LambdaSpec, NullSink, Timing};

struct Args {
    python: String,
    python_dir: String,
    rust: String,
    calls: usize,
    cold: usize,
    throughput_calls: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        python: "python3".into(),
        python_dir: "bench".into(),
        rust: String::new(),
        calls: 2000,
        cold: 20,
        throughput_calls: 20000,
    };
    let mut it = std::env::args().skip(1);
    while let (Some(flag), Some(value)) = (it.next(), it.next()) {
        match flag.as_str() {
            "--python" => args.python = value,
            "--python-dir" => args.python_dir = value,
            "--rust" => args.rust = value,
            "--calls" => args.calls = value.parse().expect("--calls N"),
            "--cold" => args.cold = value.parse().expect("--cold N"),
            "--throughput-calls" => {
                args.throughput_calls = value.parse().expect("--throughput-calls N")
            }
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

fn spec(args: &Args, rust: bool, concurrency: u32) -> LambdaSpec {
    let (command, handler) = if rust {
        (vec![args.rust.clone()], "bootstrap")
    } else {
        let argv = [
            &args.python,
            "-m",
            "awslambdaric",
            "lambda_bench_handler.handler",
        ];
        (
            argv.iter().map(|s| s.to_string()).collect(),
            "lambda_bench_handler.handler",
        )
    };
    let mut spec = LambdaSpec::new(command, &args.python_dir, "bench", handler);
    spec.concurrency = concurrency;
    spec
}

fn invocation(n: usize) -> Invocation {
    Invocation {
        request_id: format!("req-{n}"),
        run_id: "run".into(),
        step: "step".into(),
        attempt_id: "att".into(),
        function: "bench".into(),
        payload: json!({"n": n}),
        deadline: Instant::now() + Duration::from_secs(60),
    }
}

async fn call(rt: &LambdaRuntime, n: usize) -> Timing {
    let result = rt.invoke(invocation(n), Arc::new(NullSink)).await;
    assert!(result.is_success(), "{result:?}");
    result.timing()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn summary(mut values: Vec<u64>) -> (f64, f64) {
    values.sort_unstable();
    (percentile(&values, 0.5), percentile(&values, 0.99))
}

async fn warm(args: &Args, rust: bool) {
    let rt = LambdaRuntime::new(spec(args, rust, 1));
    for n in 0..50 {
        call(&rt, n).await;
    }
    let mut total = Vec::new();
    let mut handler = Vec::new();
    let mut sluice = Vec::new();
    for n in 0..args.calls {
        let t = call(&rt, n).await;
        total.push(t.total_us);
        handler.push(t.handler_us);
        sluice.push(t.overhead_us());
    }
    let (t50, t99) = summary(total);
    let (h50, _) = summary(handler);
    let (s50, s99) = summary(sluice);
    println!(
        "| warm round trip | {:<6} | {:>6} | {t50:>9.3} | {t99:>9.3} | {h50:>11.3} | {s50:>10.3} | {s99:>10.3} | {:>8} | {:>7} |",
        name(rust),
        args.calls,
        "",
        ""
    );
}

async fn cold(args: &Args, rust: bool) {
    let mut total = Vec::new();
    let mut init = Vec::new();
    for n in 0..args.cold {
        let rt = LambdaRuntime::new(spec(args, rust, 1));
        let t = call(&rt, n).await;
        assert!(t.cold_start);
        total.push(t.total_us);
        init.push(t.init_us);
    }
    let (t50, t99) = summary(total);
    let (i50, _) = summary(init);
    println!(
        "| cold start      | {:<6} | {:>6} | {t50:>9.3} | {t99:>9.3} | {:>11} | {:>10} | {:>10} | {i50:>8.2} | {:>7} |",
        name(rust),
        args.cold,
        "",
        "",
        "",
        ""
    );
}

async fn throughput(args: &Args, rust: bool, concurrency: u32) {
    let rt = Arc::new(LambdaRuntime::new(spec(args, rust, concurrency)));
    let calls = if rust {
        args.throughput_calls
    } else {
        args.throughput_calls / 5
    };
    let per_caller = calls / concurrency as usize;
    let run = |count: usize| {
        let callers: Vec<_> = (0..concurrency)
            .map(|c| {
                let rt = rt.clone();
                tokio::spawn(async move {
                    for n in 0..count {
                        call(&rt, c as usize * 1_000_000 + n).await;
                    }
                })
            })
            .collect();
        async move {
            for caller in callers {
                caller.await.unwrap();
            }
        }
    };
    run(20).await; // start every process
    let started = Instant::now();
    run(per_caller).await;
    let elapsed = started.elapsed();
    let rate = (per_caller * concurrency as usize) as f64 / elapsed.as_secs_f64();
    println!(
        "| throughput c={concurrency:<2} | {:<6} | {:>6} | {:>9} | {:>9} | {:>11} | {:>10} | {:>10} | {:>8} | {rate:>7.0} |",
        name(rust),
        per_caller * concurrency as usize,
        "",
        "",
        "",
        "",
        "",
        ""
    );
}

fn name(rust: bool) -> &'static str {
    if rust {
        "rust"
    } else {
        "python"
    }
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    println!("Times in ms. handler = event handed out on /next → answer received (client library + handler);");
    println!(
        "sluice = the rest of invoke (pick process, deliver, wake /next, complete). cpus: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!("| case            | client | calls  | total p50 | total p99 | handler p50 | sluice p50 | sluice p99 | init p50 | calls/s |");
    println!("| --------------- | ------ | ------ | --------- | --------- | ----------- | ---------- | ---------- | -------- | ------- |");
    for rust in [false, true] {
        warm(&args, rust).await;
    }
    for rust in [false, true] {
        cold(&args, rust).await;
    }
    for rust in [false, true] {
        for concurrency in [1, 2, 8] {
            throughput(&args, rust, concurrency).await;
        }
    }
}
