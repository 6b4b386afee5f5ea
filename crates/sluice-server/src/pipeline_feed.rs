//! Live feed of every run of one pipeline: status changes, log lines and
//! progress reports of all its runs, in one order, resumable.
//!
//! The store gives each log line a global position in commit order, and
//! every status change of a run is itself a line (stream `status`) written
//! in the transaction of the change. The feed is therefore just the
//! pipeline's lines after a position, read from the store: an item's `seq`
//! is its position, and a client that reconnects with the last one it saw
//! (`Last-Event-ID` or `?after=N`) misses nothing and sees nothing twice.
//!
//! Without a resume position the feed starts now: first the current status
//! of every unfinished run of the pipeline (items without a position), then
//! what happens next. `?after=0` replays the whole history.
//!
//! A client that does not read cannot make the server buffer: items pass
//! through a small bounded channel, and the producer waits for room before
//! reading more from the store, where everything it has not sent yet stays.

use crate::feed::{FeedItem, KEEP_ALIVE};
use crate::shared_reads::SharedReads;
use futures::future::FutureExt;
use serde_json::{json, Value};
use sluice_engine::Engine;
use sluice_store::{LogLine, RunFilter, STATUS_STREAM};
use std::sync::{Arc, LazyLock};
use tokio::sync::mpsc;

/// Lines read from the store at once.
const PAGE: usize = 500;
/// Items waiting for a slow client, at most.
const BUFFER: usize = 64;

/// Starts producing the feed of `pipeline`: after position `after`, or from now.
pub fn pipeline_feed(
    engine: Engine,
    pipeline: String,
    after: Option<i64>,
) -> mpsc::Receiver<FeedItem> {
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::spawn(async move {
        if let Err(reason) = produce(&engine, &pipeline, after, &tx).await {
            if !reason.is_empty() {
                let _ = tx
                    .send(FeedItem::new(None, "error", json!({ "message": reason })))
                    .await;
            }
        }
    });
    rx
}

async fn produce(
    engine: &Engine,
    pipeline: &str,
    after: Option<i64>,
    tx: &mpsc::Sender<FeedItem>,
) -> Result<(), String> {
    let store = engine.store();
    let mut notices = engine.hub().subscribe();
    let mut after = match after {
        Some(position) => position,
        None => {
            // The position is read before the snapshot, so a change between
            // the two is sent again rather than lost.
            let now = store.last_log_position().await.map_err(|e| e.to_string())?;
            snapshot(engine, pipeline, tx).await?;
            now
        }
    };
    // The first read, and any after a notice, may be shared.
    let mut notified = true;
    loop {
        let items = shared_read(engine, pipeline, after, notified).await?;
        for (position, item) in items.iter() {
            after = *position;
            send(tx, item.clone()).await?;
        }
        if items.len() == PAGE {
            continue;
        }
        // Any run's change may be this pipeline's; a notice only says "look
        // again". Without one (a change in another process), read afresh.
        let wait = tokio::time::timeout(KEEP_ALIVE, notices.recv()).await;
        notified = matches!(wait, Ok(Ok(_)));
        if tx.is_closed() {
            return Err(String::new());
        }
        if let Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) = wait {
            return Ok(());
        }
    }
}

type Items = Vec<(i64, FeedItem)>;

static READS: LazyLock<SharedReads<(usize, String, i64), Items>> = LazyLock::new(Default::default);

/// The pipeline's lines after `position`, as items, read once for all its
/// clients at that position (see [`crate::shared_reads`]) when a notice
/// woke them (`shared`), afresh otherwise.
async fn shared_read(
    engine: &Engine,
    pipeline: &str,
    position: i64,
    shared: bool,
) -> Result<Arc<Items>, String> {
    let store = engine.store().clone();
    let key = (
        Arc::as_ptr(&store) as *const () as usize,
        pipeline.to_string(),
        position,
    );
    let pipeline = pipeline.to_string();
    READS
        .get(engine.hub().generation(), key, shared, move || {
            async move {
                let lines = store
                    .read_target_logs(&pipeline, position, PAGE)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(lines.iter().map(|l| (l.position, item(l))).collect())
            }
            .boxed()
        })
        .await
}

/// The current status of each unfinished run of the pipeline.
async fn snapshot(
    engine: &Engine,
    pipeline: &str,
    tx: &mpsc::Sender<FeedItem>,
) -> Result<(), String> {
    let filter = RunFilter {
        target: Some(pipeline.to_string()),
        limit: 1000,
        ..RunFilter::default()
    };
    let runs = engine
        .store()
        .list_runs(&filter)
        .await
        .map_err(|e| e.to_string())?;
    for run in runs.iter().rev().filter(|r| !r.status.is_terminal()) {
        let data = json!({ "run_id": run.id, "status": run.status, "error": run.error, "at": run.started_at.unwrap_or(run.created_at) });
        send(tx, FeedItem::new(None, "status", data)).await?;
    }
    Ok(())
}

async fn send(tx: &mpsc::Sender<FeedItem>, item: FeedItem) -> Result<(), String> {
    // A closed channel means the client went away: stop quietly.
    tx.send(item).await.map_err(|_| String::new())
}

fn item(line: &LogLine) -> FeedItem {
    let parsed = || {
        serde_json::from_str::<Value>(&line.line)
            .unwrap_or_else(|_| json!({ "message": line.line }))
    };
    let (kind, data) = match line.stream.as_str() {
        STATUS_STREAM => {
            let status = parsed();
            (
                "status",
                json!({ "run_id": line.run_id, "status": status["status"], "error": status["error"], "at": line.at }),
            )
        }
        "progress" => (
            "progress",
            json!({ "run_id": line.run_id, "at": line.at, "step": line.step, "attempt_id": line.attempt_id, "report": parsed() }),
        ),
        _ => ("log", serde_json::to_value(line).unwrap_or(Value::Null)),
    };
    FeedItem::new(Some(line.position), kind, data)
}
