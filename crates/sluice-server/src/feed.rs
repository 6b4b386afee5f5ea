//! Live progress of a run: its status, log lines and progress reports, in
//! order, over Server-Sent Events and WebSocket.
//!
//! Log lines and progress reports carry their sequence number in the run's
//! log; a client that reconnects with the last number it saw (`Last-Event-ID`
//! for SSE, `?after=N` for both) misses nothing. The current status is sent
//! first on every connection and again whenever it changes, so a reconnecting
//! client always knows where the run stands. The feed ends after the run
//! reaches a terminal status and every line has been sent.

use serde_json::{json, Value};
use sluice_engine::{Engine, Notice};
use sluice_store::{LogLine, RunRecord};
use std::time::Duration;
use tokio::sync::mpsc;

/// One item of a run's feed.
#[derive(Debug, Clone)]
pub struct FeedItem {
    /// The log sequence number, for lines and progress (the resume position).
    pub seq: Option<i64>,
    /// `status`, `log` or `progress`.
    pub kind: &'static str,
    pub data: Value,
}

/// Keep-alive period: a client sees a comment at least this often.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Starts producing the feed of `run_id` after log sequence `after`.
pub fn run_feed(engine: Engine, run_id: String, after: i64) -> mpsc::Receiver<FeedItem> {
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        if let Err(reason) = produce(&engine, &run_id, after, &tx).await {
            let _ = tx
                .send(FeedItem {
                    seq: None,
                    kind: "error",
                    data: json!({ "message": reason }),
                })
                .await;
        }
    });
    rx
}

async fn produce(
    engine: &Engine,
    run_id: &str,
    mut after: i64,
    tx: &mpsc::Sender<FeedItem>,
) -> Result<(), String> {
    let mut notices = engine.hub().subscribe();
    let mut last_status = None;
    loop {
        // The run is read before its lines: an attempt's lines are stored before
        // the run's status changes, so a terminal run's lines are all in this read
        // and the final status goes out after them.
        let run = engine
            .store()
            .get_run(run_id)
            .await
            .map_err(|e| e.to_string())?;
        let lines = engine
            .store()
            .read_logs(run_id, after, 500)
            .await
            .map_err(|e| e.to_string())?;
        for line in &lines {
            after = line.seq;
            // Status lines are the pipeline feed's; this feed reads the run itself.
            if line.stream != sluice_store::STATUS_STREAM {
                send(tx, log_item(line)).await?;
            }
        }
        if lines.len() == 500 {
            continue;
        }
        if last_status != Some(run.status) {
            last_status = Some(run.status);
            send(
                tx,
                FeedItem {
                    seq: None,
                    kind: "status",
                    data: status(&run),
                },
            )
            .await?;
        }
        if run.status.is_terminal() {
            return Ok(());
        }
        wait_for_change(&mut notices, run_id).await;
    }
}

async fn send(tx: &mpsc::Sender<FeedItem>, item: FeedItem) -> Result<(), String> {
    // A closed channel means the client went away: stop quietly.
    tx.send(item).await.map_err(|_| String::new())
}

async fn wait_for_change(notices: &mut tokio::sync::broadcast::Receiver<Notice>, run_id: &str) {
    let deadline = tokio::time::Instant::now() + KEEP_ALIVE;
    loop {
        match tokio::time::timeout_at(deadline, notices.recv()).await {
            Err(_) | Ok(Err(_)) => return,
            Ok(Ok(notice)) if notice.run_id() == run_id => return,
            Ok(Ok(_)) => {}
        }
    }
}

fn status(run: &RunRecord) -> Value {
    json!({ "run_id": run.id, "status": run.status, "error": run.error, "output": run.output, "finished_at": run.finished_at })
}

fn log_item(line: &LogLine) -> FeedItem {
    if line.stream == "progress" {
        let report =
            serde_json::from_str(&line.line).unwrap_or_else(|_| json!({ "message": line.line }));
        let data = json!({ "at": line.at, "step": line.step, "attempt_id": line.attempt_id, "report": report });
        return FeedItem {
            seq: Some(line.seq),
            kind: "progress",
            data,
        };
    }
    FeedItem {
        seq: Some(line.seq),
        kind: "log",
        data: serde_json::to_value(line).unwrap_or(Value::Null),
    }
}
