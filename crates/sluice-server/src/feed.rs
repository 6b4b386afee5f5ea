//! Live progress of a run: its status, log lines and progress reports, in
//! order, over Server-Sent Events and WebSocket.
//!
//! Log lines and progress reports carry their sequence number in the run's
//! log; a client that reconnects with the last number it saw (`Last-Event-ID`
//! for SSE, `?after=N` for both) misses nothing. The current status is sent
//! first on every connection and again whenever it changes, so a reconnecting
//! client always knows where the run stands. The feed ends after the run
//! reaches a terminal status and every line has been sent.

use crate::shared_reads::SharedReads;
use axum::extract::ws::Utf8Bytes;
use futures::future::FutureExt;
use serde_json::{json, Value};
use sluice_engine::{Engine, Notice};
use sluice_store::{LogLine, RunRecord};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;

/// One item of a run's feed. Cloning it is cheap, and its WebSocket text
/// is made once however many clients receive it.
#[derive(Debug, Clone)]
pub struct FeedItem {
    /// The log sequence number, for lines and progress (the resume position).
    pub seq: Option<i64>,
    /// `status`, `log` or `progress`.
    pub kind: &'static str,
    pub data: Arc<Value>,
    wire: Arc<OnceLock<Utf8Bytes>>,
}

impl FeedItem {
    pub fn new(seq: Option<i64>, kind: &'static str, data: Value) -> FeedItem {
        FeedItem {
            seq,
            kind,
            data: Arc::new(data),
            wire: Arc::default(),
        }
    }

    /// `{"seq": N|null, "kind": "...", "data": {...}}`, serialized once.
    pub fn ws_text(&self) -> Utf8Bytes {
        self.wire
            .get_or_init(|| {
                json!({ "seq": self.seq, "kind": self.kind, "data": &*self.data })
                    .to_string()
                    .into()
            })
            .clone()
    }
}

/// Lines read from the store at once.
const PAGE: usize = 500;

/// One read of a run for its feed: the run, then its lines after a
/// position as feed items (`None` for lines this feed does not send).
struct Read {
    run: RunRecord,
    /// The run's status as an item.
    status: FeedItem,
    items: Vec<(i64, Option<FeedItem>)>,
}

static READS: LazyLock<SharedReads<(usize, String, i64), Read>> = LazyLock::new(Default::default);

/// The run and its lines after `after`, read once for all the clients of
/// the run at the same position (see [`crate::shared_reads`]) when a
/// notice woke them (`shared`); read afresh otherwise, as a change made by
/// another process announces nothing here.
async fn shared_read(
    engine: &Engine,
    run_id: &str,
    after: i64,
    shared: bool,
) -> Result<Arc<Read>, String> {
    let store = engine.store().clone();
    let key = (
        Arc::as_ptr(&store) as *const () as usize,
        run_id.to_string(),
        after,
    );
    let run_id = run_id.to_string();
    let generation = engine.hub().generation();
    READS
        .get(generation, key, shared, move || {
            async move {
                let run = store.get_run(&run_id).await.map_err(|e| e.to_string())?;
                let lines = store
                    .read_logs(&run_id, after, PAGE)
                    .await
                    .map_err(|e| e.to_string())?;
                // Status lines are the pipeline feed's; this feed reads the run itself.
                let items = lines
                    .iter()
                    .map(|line| {
                        let item =
                            (line.stream != sluice_store::STATUS_STREAM).then(|| log_item(line));
                        (line.seq, item)
                    })
                    .collect();
                let status = FeedItem::new(None, "status", status(&run));
                Ok(Read { run, status, items })
            }
            .boxed()
        })
        .await
}

/// Keep-alive period: a client sees a comment at least this often.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Starts producing the feed of `run_id` after log sequence `after`.
pub fn run_feed(engine: Engine, run_id: String, after: i64) -> mpsc::Receiver<FeedItem> {
    let (tx, rx) = mpsc::channel(32);
    tokio::spawn(async move {
        if let Err(reason) = produce(&engine, &run_id, after, &tx).await {
            let _ = tx
                .send(FeedItem::new(None, "error", json!({ "message": reason })))
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
    // The first read, and any after a notice, may be shared.
    let mut notified = true;
    loop {
        // The run is read before its lines: an attempt's lines are stored before
        // the run's status changes, so a terminal run's lines are all in this read
        // and the final status goes out after them.
        let read = shared_read(engine, run_id, after, notified).await?;
        let (run, items) = (&read.run, &read.items);
        for (seq, item) in items {
            after = *seq;
            if let Some(item) = item {
                send(tx, item.clone()).await?;
            }
        }
        if items.len() == PAGE {
            continue;
        }
        if last_status != Some(run.status) {
            last_status = Some(run.status);
            send(tx, read.status.clone()).await?;
        }
        if run.status.is_terminal() {
            return Ok(());
        }
        notified = wait_for_change(&mut notices, run_id).await;
    }
}

async fn send(tx: &mpsc::Sender<FeedItem>, item: FeedItem) -> Result<(), String> {
    // A closed channel means the client went away: stop quietly.
    tx.send(item).await.map_err(|_| String::new())
}

/// Waits for a notice about `run_id`; false when it waited [`KEEP_ALIVE`]
/// without one, or missed notices (the change may then have happened in
/// another process sharing the store, which no notice here announces).
async fn wait_for_change(
    notices: &mut tokio::sync::broadcast::Receiver<Notice>,
    run_id: &str,
) -> bool {
    let deadline = tokio::time::Instant::now() + KEEP_ALIVE;
    loop {
        match tokio::time::timeout_at(deadline, notices.recv()).await {
            Err(_) | Ok(Err(_)) => return false,
            Ok(Ok(notice)) if notice.run_id() == run_id => return true,
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
        return FeedItem::new(Some(line.seq), "progress", data);
    }
    FeedItem::new(
        Some(line.seq),
        "log",
        serde_json::to_value(line).unwrap_or(Value::Null),
    )
}
