//! Handler log lines and the [`LogSink`] that receives them as they happen.
//!
//! Lines are pushed (not returned at the end) so the engine can store them on the
//! attempt while the handler still runs, and so a handler that hangs or is killed
//! still leaves its last words behind. Sinks are called from the runtime's I/O
//! loop, so they must be quick (append to a buffer or a channel, never block).

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::progress::ProgressReport;

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One line a handler printed, timestamped when Sluice read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerLogLine {
    /// Epoch milliseconds when the line was read.
    pub at_ms: i64,
    pub stream: Stream,
    /// The invocation the line belongs to, when known (always for the Lambda
    /// runtime, whose long-lived processes serve many invocations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The line without its terminator; invalid UTF-8 replaced lossily.
    pub text: String,
}

/// Receives a handler's log lines as they happen.
pub trait LogSink: Send + Sync {
    fn line(&self, line: HandlerLogLine);

    /// A progress report from the handler (see [`crate::progress`]); ignored by default.
    fn progress(&self, report: ProgressReport) {
        let _ = report;
    }
}

/// Any `Fn(HandlerLogLine)` closure is a sink.
impl<F: Fn(HandlerLogLine) + Send + Sync> LogSink for F {
    fn line(&self, line: HandlerLogLine) {
        self(line)
    }
}

/// A sink that discards every line.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl LogSink for NullSink {
    fn line(&self, _line: HandlerLogLine) {}
}

/// A sink that keeps every line in memory; for tests and small tools.
#[derive(Debug, Default)]
pub struct MemorySink {
    lines: Mutex<Vec<HandlerLogLine>>,
    progress: Mutex<Vec<ProgressReport>>,
}

impl MemorySink {
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the lines received so far, in arrival order.
    pub fn lines(&self) -> Vec<HandlerLogLine> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A copy of the progress reports received so far, in arrival order.
    pub fn progress_reports(&self) -> Vec<ProgressReport> {
        self.progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Just the texts, in arrival order.
    pub fn texts(&self) -> Vec<String> {
        self.lines().into_iter().map(|l| l.text).collect()
    }
}

impl LogSink for MemorySink {
    fn line(&self, line: HandlerLogLine) {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }

    fn progress(&self, report: ProgressReport) {
        self.progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(report);
    }
}
