//! Benchmarks of the task API through a real `sluice up` (run by
//! `bench/api_bench.sh`, which builds everything in release mode):
//!
//! * makespan of a 10,000-item fan-out of the built-in `pass` step, and of a
//!   warm Lambda-runtime handler (awslambdaric), against running the same
//!   10,000 items as 10,000 separate pipeline runs;
//! * latency from a handler's progress report to a WebSocket client of the
//!   run's live feed (p50, p99), against polling `/v1/runs/{id}/logs`;
//! * the same with `SUBSCRIBERS` (default 10,000) clients of one run at
//!   once: time to connect them, latency to every one, the server's memory.
//!
//! Usage: `api_bench SLUICE_BINARY PYTHON [ITEMS]`.

use futures::StreamExt;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PROJECT: &str = r#"
version: 1
functions:
  echo:
    runtime: lambda
    run: ["PYTHON", "-m", "awslambdaric", "app.handler"]
    handler: app.handler
    concurrency: 8
  reporter:
    run: PYTHON reporter.py
  gated:
    run: PYTHON gated.py
pipelines:
  noop:
    phases:
      - name: each
        uses: pass
        fan_out: { over: "$.items", max_concurrency: 64 }
  one:
    phases:
      - { name: only, uses: pass }
  warm:
    phases:
      - name: each
        function: echo
        fan_out: { over: "$.items", max_concurrency: 8 }
  progress:
    phases:
      - { name: report, function: reporter }
  broadcast:
    phases:
      - { name: report, function: gated }
"#;

/// Waits for the file `go` (all subscribers connected), then reports 20
/// times, 50 ms apart, each carrying its send time.
const GATED: &str = r#"import json, os, sys, time, urllib.request
sys.stdin.read()
while not os.path.exists("go"):
    time.sleep(0.01)
url = os.environ["SLUICE_PROGRESS_URL"]
for i in range(1, 21):
    body = json.dumps({"done": i, "total": 20, "message": repr(time.time())}).encode()
    urllib.request.urlopen(urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})).read()
    time.sleep(0.05)
print("{}")
"#;

const APP: &str = "def handler(event, context):\n    return event\n";

/// Reports progress 200 times, 5 ms apart, each carrying its send time.
const REPORTER: &str = r#"import json, os, sys, time, urllib.request
sys.stdin.read()
url = os.environ["SLUICE_PROGRESS_URL"]
for i in range(1, 201):
    body = json.dumps({"done": i, "total": 200, "message": repr(time.time())}).encode()
    urllib.request.urlopen(urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})).read()
    time.sleep(0.005)
print("{}")
"#;

struct Up(Child);

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(sluice: &str, dir: &Path) -> (Up, String) {
    let mut child = Command::new(sluice)
        .args([
            "up",
            dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--s3-listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sluice up");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let api = loop {
        let line = lines.next().expect("sluice up exited").unwrap();
        if let Some(api) = line.strip_prefix("ready: ") {
            break api.to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (Up(child), api)
}

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run_and_wait(
    http: &reqwest::Client,
    api: &str,
    pipeline: &str,
    input: &Value,
) -> (Value, Duration) {
    let start = Instant::now();
    let run: Value = http
        .post(format!("{api}/v1/pipelines/{pipeline}/runs?wait=600"))
        .json(input)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(run["status"], "succeeded", "{pipeline}: {}", run["error"]);
    (run, start.elapsed())
}

/// 10,000 one-phase runs submitted at once, until the last one finishes.
async fn separate_runs(http: &reqwest::Client, api: &str, items: usize) -> Duration {
    let start = Instant::now();
    let ids: Vec<String> = futures::stream::iter(0..items)
        .map(|i| async move {
            let accepted: Value = http
                .post(format!("{api}/v1/pipelines/one/runs"))
                .json(&json!({ "i": i }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            accepted["run_id"].as_str().unwrap().to_string()
        })
        .buffer_unordered(32)
        .collect()
        .await;
    for id in ids {
        let run: Value = http
            .get(format!("{api}/v1/runs/{id}?wait=600"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(run["status"], "succeeded");
    }
    start.elapsed()
}

/// How long ago (ms) the handler sent the report a feed message carries,
/// if it carries one of the handler's reports (the run's own aggregate
/// progress has no step).
fn report_latency(message: tokio_tungstenite::tungstenite::Message) -> Option<f64> {
    let tokio_tungstenite::tungstenite::Message::Text(text) = message else {
        return None;
    };
    let item: Value = serde_json::from_str(&text).unwrap();
    if item["kind"] != "progress" || item["data"]["step"] != "report" {
        return None;
    }
    let sent: f64 = item["data"]["report"]["message"].as_str()?.parse().ok()?;
    Some((now_s() - sent) * 1000.0)
}

/// Progress latencies (ms) seen by a WebSocket client of the run's feed.
async fn progress_over_websocket(http: &reqwest::Client, api: &str) -> Vec<f64> {
    let accepted: Value = http
        .post(format!("{api}/v1/pipelines/progress/runs"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ws_url = format!(
        "{}{}",
        api.replace("http://", "ws://"),
        accepted["ws_url"].as_str().unwrap()
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    let mut latencies = Vec::new();
    while let Some(Ok(message)) = socket.next().await {
        latencies.extend(report_latency(message));
    }
    latencies
}

/// The same latencies seen by a client long-polling the logs endpoint.
async fn progress_by_polling(http: &reqwest::Client, api: &str) -> Vec<f64> {
    let accepted: Value = http
        .post(format!("{api}/v1/pipelines/progress/runs"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = accepted["run_id"].as_str().unwrap();
    let (mut after, mut latencies) = (0i64, Vec::new());
    loop {
        let page: Value = http
            .get(format!("{api}/v1/runs/{id}/logs?after={after}&wait=20"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let lines = page["lines"].as_array().cloned().unwrap_or_default();
        for line in &lines {
            if line["stream"] == "progress" && line["step"] == "report" {
                let report: Value = serde_json::from_str(line["line"].as_str().unwrap()).unwrap();
                let sent: f64 = report["message"].as_str().unwrap().parse().unwrap();
                latencies.push((now_s() - sent) * 1000.0);
            }
        }
        after = page["next_after"].as_i64().unwrap_or(after);
        if lines.is_empty() && page["finished"].as_bool().unwrap_or(false) {
            return latencies;
        }
    }
}

/// `subscribers` WebSocket clients of one run's feed: how long they take
/// to connect, the latencies of each report to each of them, and the
/// server's peak memory.
async fn progress_to_many(
    http: &reqwest::Client,
    api: &str,
    dir: &Path,
    server_pid: u32,
    subscribers: usize,
) -> (Duration, Vec<f64>, usize, String) {
    let accepted: Value = http
        .post(format!("{api}/v1/pipelines/broadcast/runs"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ws_url = format!(
        "{}{}",
        api.replace("http://", "ws://"),
        accepted["ws_url"].as_str().unwrap()
    );
    let start = Instant::now();
    let sockets: Vec<_> = futures::stream::iter(0..subscribers)
        .map(|_| {
            let url = ws_url.clone();
            async move { tokio_tungstenite::connect_async(url).await.unwrap().0 }
        })
        .buffer_unordered(256)
        .collect()
        .await;
    let connected = start.elapsed();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for mut socket in sockets {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = socket.next().await {
                if let Some(ms) = report_latency(message) {
                    let _ = tx.send(ms);
                }
            }
        });
    }
    drop(tx);
    std::fs::write(dir.join("go"), "").unwrap();
    let mut latencies = Vec::new();
    while let Some(ms) = rx.recv().await {
        latencies.push(ms);
    }
    let peak = std::fs::read_to_string(format!("/proc/{server_pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or("-".into(), |kb| format!("{} MiB", kb / 1024));
    (connected, latencies, subscribers, peak)
}

fn stats(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    format!(
        "{:.1} ms | {:.1} ms | {}",
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms.len()
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (sluice, python) = (&args[1], &args[2]);
    let items: usize = args.get(3).map_or(10_000, |n| n.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        PROJECT.replace("PYTHON", python),
    )
    .unwrap();
    std::fs::write(dir.path().join("app.py"), APP).unwrap();
    std::fs::write(dir.path().join("reporter.py"), REPORTER).unwrap();
    std::fs::write(dir.path().join("gated.py"), GATED).unwrap();
    let (_up, api) = start(sluice, dir.path());
    let http = reqwest::Client::new();
    let list = json!({ "items": (0..items).collect::<Vec<_>>() });

    let (run, client) = run_and_wait(&http, &api, "noop", &list).await;
    let server = run["finished_at"].as_i64().unwrap() - run["started_at"].as_i64().unwrap();
    let (_, warm_client) = run_and_wait(&http, &api, "warm", &list).await;
    let separate = separate_runs(&http, &api, items).await;
    println!("| fan-out of {items} items | makespan (client) | run time (server) |");
    println!("|---|---:|---:|");
    println!(
        "| built-in `pass`, max_concurrency 64 | {:.2} s | {:.2} s |",
        client.as_secs_f64(),
        server as f64 / 1000.0
    );
    let warm = warm_client.as_secs_f64();
    println!("| warm awslambdaric handler, concurrency 8 | {warm:.2} s | - |");
    println!(
        "| alternative: {items} separate one-phase `pass` runs | {:.2} s | - |",
        separate.as_secs_f64()
    );
    println!();
    let ws = progress_over_websocket(&http, &api).await;
    let polled = progress_by_polling(&http, &api).await;
    println!("| progress report → client | p50 | p99 | reports |");
    println!("|---|---:|---:|---:|");
    println!("| WebSocket `/v1/runs/{{id}}/ws` | {} |", stats(ws));
    println!(
        "| alternative: long-polling `/v1/runs/{{id}}/logs` | {} |",
        stats(polled)
    );
    let subscribers: usize = std::env::var("SUBSCRIBERS")
        .ok()
        .map_or(10_000, |n| n.parse().unwrap());
    let (connected, latencies, n, peak) =
        progress_to_many(&http, &api, dir.path(), _up.0.id(), subscribers).await;
    println!();
    println!("| {n} WebSocket subscribers of one run | connected in | p50 | p99 | reports received (of {}) | server peak memory |", n * 20);
    println!("|---|---:|---:|---:|---:|---:|");
    let received = latencies.len();
    let mut sorted = latencies;
    sorted.sort_by(f64::total_cmp);
    println!(
        "| 20 progress reports, 50 ms apart | {:.2} s | {:.1} ms | {:.1} ms | {received} | {peak} |",
        connected.as_secs_f64(),
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
    );
}
