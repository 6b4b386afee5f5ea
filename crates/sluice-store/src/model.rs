//! Plain data exchanged with a [`crate::Store`].

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sluice_core::time::EpochMillis;
use sluice_core::{AttemptStatus, Backoff, RunKind, RunStatus, StepStatus};

/// A queue's delivery policy, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueDef {
    pub name: String,
    pub visibility_timeout_ms: u64,
    /// Deliveries after which a message is dead-lettered (at least 1).
    pub max_receive_count: u32,
    /// Where exhausted messages go; `None` only for a dead-letter queue itself.
    pub dead_letter_queue: Option<String>,
    /// Maximum messages leased at once; `None` is unlimited.
    pub concurrency: Option<u32>,
    pub dedup_window_ms: u64,
    pub backoff: Backoff,
}

/// A message to enqueue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewMessage {
    pub queue: String,
    pub body: Value,
    /// FIFO group: messages of one group are delivered one at a time, in order.
    pub group: Option<String>,
    /// Idempotency key: duplicates within the queue's window are dropped.
    pub dedup_key: Option<String>,
    /// Not deliverable before `now + delay_ms`.
    pub delay_ms: u64,
    /// The run this message executes, if any (set by [`crate::Store::submit_run`]).
    pub run_id: Option<String>,
}

/// The outcome of enqueueing one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enqueued {
    pub message_id: String,
    /// True when a message with the same dedup key already existed; `message_id`
    /// is then the existing message's.
    pub duplicate: bool,
}

/// Names one delivery of one message. Stale receipts are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub message_id: String,
    /// The delivery number this receipt belongs to (the fencing token).
    pub receive_count: u32,
}

/// A leased message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    pub receipt: Receipt,
    pub queue: String,
    pub body: Value,
    pub group: Option<String>,
    pub run_id: Option<String>,
    pub enqueued_at: EpochMillis,
    pub leased_until: EpochMillis,
    /// The error recorded by the previous failed delivery, if any.
    pub last_error: Option<String>,
}

/// How a delivery of a run ended, for [`crate::Store::settle_run`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Settlement {
    Succeeded { output: Value },
    Failed { error: String, retry_delay_ms: u64 },
}

/// What [`crate::Store::settle_run`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Settled {
    /// The run succeeded and its message was acknowledged.
    Succeeded,
    /// The run will be retried; its message is visible again at this time.
    Retrying { visible_at: EpochMillis },
    /// The run failed for good; its message is in this dead-letter queue.
    DeadLettered { queue: String },
}

/// What [`crate::Store::fail`] did with the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailOutcome {
    /// Visible again at this time.
    Retrying { visible_at: EpochMillis },
    /// Moved to this dead-letter queue.
    DeadLettered { queue: String },
}

/// A message as shown to an operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageInfo {
    pub message_id: String,
    pub queue: String,
    pub body: Value,
    pub group: Option<String>,
    pub run_id: Option<String>,
    pub receive_count: u32,
    pub enqueued_at: EpochMillis,
    pub visible_at: EpochMillis,
    pub leased_by: Option<String>,
    pub last_error: Option<String>,
    /// For a dead-lettered message: the queue it came from.
    pub source_queue: Option<String>,
}

/// Message counts of a queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStats {
    /// Deliverable now.
    pub visible: u64,
    /// Waiting for a delay or a retry backoff.
    pub delayed: u64,
    /// Leased and not expired.
    pub in_flight: u64,
}

/// A run to create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    pub id: String,
    pub kind: RunKind,
    /// The function or pipeline name.
    pub target: String,
    pub input: Value,
    /// What started it, e.g. `invoke`, `queue:orders`, `http:submit`.
    pub trigger: String,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: String,
    pub kind: RunKind,
    pub target: String,
    pub status: RunStatus,
    pub trigger: String,
    pub input: Value,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub created_at: EpochMillis,
    pub started_at: Option<EpochMillis>,
    pub finished_at: Option<EpochMillis>,
}

/// What [`crate::Store::submit_run`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    pub run_id: String,
    pub message_id: String,
    /// True when the dedup key matched an earlier submission.
    pub duplicate: bool,
}

/// Filter for [`crate::Store::list_runs`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFilter {
    pub status: Option<RunStatus>,
    pub target: Option<String>,
    /// Only runs whose id sorts before this one (pagination, newest first).
    pub before: Option<String>,
    pub limit: usize,
}

/// A change to a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunUpdate {
    pub status: RunStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
}

/// A step to declare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStep {
    pub name: String,
    /// Position in the run (pipeline phase index).
    pub position: u32,
}

/// A step with its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub run_id: String,
    pub name: String,
    pub position: u32,
    pub status: StepStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub started_at: Option<EpochMillis>,
    pub finished_at: Option<EpochMillis>,
    pub attempts: Vec<AttemptRecord>,
}

/// Facts known when an attempt starts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttemptStart {
    /// The worker process running it.
    pub worker: String,
    /// Reference to the attempt's input (inline JSON or an object reference).
    pub input: Option<Value>,
}

/// One attempt at a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    pub id: String,
    pub run_id: String,
    pub step: String,
    pub number: u32,
    pub status: AttemptStatus,
    pub worker: String,
    pub input: Option<Value>,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub exit_code: Option<i32>,
    pub started_at: EpochMillis,
    pub finished_at: Option<EpochMillis>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptOutcome {
    /// Must be a finished status.
    pub status: AttemptStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub exit_code: Option<i32>,
}

/// A log line to append.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewLogLine {
    pub run_id: String,
    pub step: Option<String>,
    pub attempt_id: Option<String>,
    pub at: EpochMillis,
    /// `stdout`, `stderr` or `sluice`.
    pub stream: String,
    pub line: String,
}

/// A stored log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub seq: i64,
    /// The line's place among every run's lines, in commit order: the resume
    /// position of a pipeline's feed (0 for lines stored before schema 4).
    #[serde(default)]
    pub position: i64,
    pub run_id: String,
    pub step: Option<String>,
    pub attempt_id: Option<String>,
    pub at: EpochMillis,
    pub stream: String,
    pub line: String,
}

/// An event to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub source: String,
    pub detail_type: String,
    pub detail: Value,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub seq: i64,
    pub id: String,
    pub at: EpochMillis,
    pub source: String,
    pub detail_type: String,
    pub detail: Value,
}

/// The persisted state of one schedule: when it fires next and what it did last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleState {
    pub name: String,
    /// The expression and time zone the next fire time was computed from; a
    /// change in the project file is detected by comparing them.
    pub expression: String,
    pub timezone: String,
    /// `None` once a one-time schedule has fired.
    pub next_fire_at: Option<EpochMillis>,
    pub last_fired_at: Option<EpochMillis>,
    pub last_run_id: Option<String>,
}

/// What a schedule firing starts: a run with the message that executes it, or
/// a plain message (a queue without a consumer), or nothing (a skipped fire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Firing {
    Run { run: NewRun, message: NewMessage },
    Message(NewMessage),
    Skip,
}

/// What one firing submitted (nothing for a skipped one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fired {
    pub run_id: Option<String>,
    pub message_id: Option<String>,
}

/// The timestamps a run has after `update` at `now`, or why the change is
/// refused. One rule for every backend: a terminal run keeps its status (only
/// a rerun reopens it), repeating the same terminal status is accepted so a
/// retried "mark succeeded" is harmless, `started_at` is set on the first move
/// to `running`, and `finished_at` on reaching a terminal status.
pub fn run_transition(
    current: &RunRecord,
    update: &RunUpdate,
    now: EpochMillis,
) -> Result<(Option<EpochMillis>, Option<EpochMillis>), String> {
    if current.status.is_terminal() && update.status != current.status {
        return Err(format!(
            "run `{}` is already {}; it cannot become {} (rerun it instead)",
            current.id, current.status, update.status
        ));
    }
    let started_at = match (current.started_at, update.status) {
        (None, RunStatus::Running) => Some(now),
        (started, _) => started,
    };
    let finished_at = match (update.status.is_terminal(), current.finished_at) {
        (false, _) => None,
        (true, Some(at)) if current.status == update.status => Some(at),
        (true, _) => Some(now),
    };
    Ok((started_at, finished_at))
}

/// The run's update when its message is dead-lettered: failed, with an error
/// that says where the message went.
pub fn dead_lettered_update(error: &str, queue: &str, deliveries: u32) -> RunUpdate {
    RunUpdate {
        status: RunStatus::Failed,
        output: None,
        error: Some(format!("{error} (gave up after {deliveries} deliveries; message moved to dead-letter queue `{queue}`)")),
    }
}

/// What an attempt's outcome makes of its step: its status, when it finished,
/// and its error. One rule for every backend: success and failure finish the
/// step; an abandoned attempt leaves it pending, to run again.
pub fn step_after_attempt(
    outcome: &AttemptOutcome,
    now: EpochMillis,
) -> (StepStatus, Option<EpochMillis>, Option<String>) {
    let (status, finished_at) = match outcome.status {
        AttemptStatus::Succeeded => (StepStatus::Succeeded, Some(now)),
        AttemptStatus::Failed | AttemptStatus::TimedOut => (StepStatus::Failed, Some(now)),
        AttemptStatus::Abandoned | AttemptStatus::Running => (StepStatus::Pending, None),
    };
    let error = match outcome.status {
        AttemptStatus::Succeeded => None,
        AttemptStatus::TimedOut => Some(
            outcome
                .error
                .clone()
                .unwrap_or_else(|| "timed out".to_string()),
        ),
        _ => outcome.error.clone(),
    };
    (status, finished_at, error)
}

pub use sluice_core::token::{TokenRecord, TokenScope};

/// A token to store: everything but its creation time, which the store sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub id: String,
    pub name: String,
    /// Hex SHA-256 of the secret (see [`sluice_core::token`]).
    pub secret_hash: String,
    pub scope: TokenScope,
    pub expires_at: Option<EpochMillis>,
}

/// The stream of the log line a run's every status change writes, in the
/// transaction of the change (its text is `{"status", "error"}`).
pub const STATUS_STREAM: &str = "status";

/// The log line recording a status change.
pub(crate) fn status_line(run: &RunRecord, at: EpochMillis) -> NewLogLine {
    NewLogLine {
        run_id: run.id.clone(),
        step: None,
        attempt_id: None,
        at,
        stream: STATUS_STREAM.to_string(),
        line: serde_json::json!({ "status": run.status, "error": run.error }).to_string(),
    }
}
