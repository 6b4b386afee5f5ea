//! A run's log: handler output and Sluice's own notes, batched into the store.
//!
//! Handler lines arrive one by one from the runtime; writing each in its own
//! transaction would make a chatty handler slow. Lines are buffered and
//! flushed every [`FLUSH_EVERY`] and when the attempt ends, before its status
//! is recorded, so a reader never sees an attempt finished without its logs.
//! A progress report is flushed at once (with the lines before it): someone
//! is watching a progress bar, and reports are few.

use crate::hub::{Hub, Notice};
use crate::run_progress::RunProgress;
use sluice_core::time::now_ms;
use sluice_runtime::{HandlerLogLine, LogSink, ProgressReport, Stream};
use sluice_store::{NewLogLine, Store};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Where a log line belongs.
#[derive(Debug, Clone)]
pub(crate) struct LogScope {
    pub run_id: String,
    pub step: Option<String>,
    pub attempt_id: Option<String>,
}

/// Buffers a run's log lines and writes them to the store.
pub(crate) struct RunLog {
    scope: LogScope,
    store: Arc<dyn Store>,
    hub: Hub,
    buffer: Mutex<Vec<NewLogLine>>,
    /// Wakes the periodic flusher early (a progress report arrived).
    urgent: tokio::sync::Notify,
    /// The run's aggregate, told of this step's reports.
    aggregate: Option<Arc<RunProgress>>,
}

impl RunLog {
    pub fn new(scope: LogScope, store: Arc<dyn Store>, hub: Hub) -> Arc<Self> {
        Self::build(scope, store, hub, None)
    }

    /// A step's log whose progress reports also move the run's `aggregate`.
    pub fn feeding(
        scope: LogScope,
        store: Arc<dyn Store>,
        hub: Hub,
        aggregate: Option<Arc<RunProgress>>,
    ) -> Arc<Self> {
        Self::build(scope, store, hub, aggregate)
    }

    fn build(
        scope: LogScope,
        store: Arc<dyn Store>,
        hub: Hub,
        aggregate: Option<Arc<RunProgress>>,
    ) -> Arc<Self> {
        Arc::new(RunLog {
            scope,
            store,
            hub,
            buffer: Mutex::new(Vec::new()),
            urgent: tokio::sync::Notify::new(),
            aggregate,
        })
    }

    /// Records a line written by Sluice itself about this run.
    pub fn note(&self, text: impl Into<String>) {
        self.push(now_ms(), "sluice", text.into());
    }

    fn push(&self, at: i64, stream: &str, line: String) {
        let line = NewLogLine {
            run_id: self.scope.run_id.clone(),
            step: self.scope.step.clone(),
            attempt_id: self.scope.attempt_id.clone(),
            at,
            stream: stream.to_string(),
            line,
        };
        self.buffer.lock().expect("log buffer poisoned").push(line);
    }

    /// Takes the buffered lines, to be stored by the caller (with the
    /// attempt's outcome, in one transaction).
    pub fn take(&self) -> Vec<NewLogLine> {
        std::mem::take(&mut *self.buffer.lock().expect("log buffer poisoned"))
    }

    /// Tells waiters that lines were stored by someone else (see [`RunLog::take`]).
    pub fn announce(&self) {
        self.hub.publish(Notice::LogsAppended {
            run_id: self.scope.run_id.clone(),
        });
    }

    /// Writes buffered lines to the store.
    pub async fn flush(&self) {
        let lines = self.take();
        if lines.is_empty() {
            return;
        }
        if let Err(err) = self.store.append_logs(&lines).await {
            tracing::error!(run_id = %self.scope.run_id, error = %err, lines = lines.len(), "could not store log lines");
            return;
        }
        self.hub.publish(Notice::LogsAppended {
            run_id: self.scope.run_id.clone(),
        });
    }

    /// Flushes periodically until the returned guard is dropped.
    pub fn flush_periodically(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let log = self.clone();
        tokio::spawn(async move {
            // The first flush waits a full period: most attempts finish sooner
            // and store their lines with their outcome, in one transaction.
            let start = tokio::time::Instant::now() + FLUSH_EVERY;
            let mut ticker = tokio::time::interval_at(start, FLUSH_EVERY);
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    _ = log.urgent.notified() => {}
                }
                log.flush().await;
            }
        })
    }
}

impl LogSink for RunLog {
    fn line(&self, line: HandlerLogLine) {
        let stream = match line.stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        };
        self.push(line.at_ms, stream, line.text);
    }

    /// Progress reports are log lines of the stream `progress` holding the
    /// report as JSON, so they are ordered with the rest of the run's log and
    /// replayed to clients that resume (see the run feed).
    fn progress(&self, report: ProgressReport) {
        if let (Some(aggregate), Some(step)) = (&self.aggregate, &self.scope.step) {
            aggregate.step_reported(step, &report);
        }
        let text = serde_json::to_string(&report).unwrap_or_default();
        self.push(sluice_core::time::now_ms(), "progress", text);
        self.urgent.notify_one();
    }
}
