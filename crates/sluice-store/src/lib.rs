//! The durable state of Sluice behind one seam: the [`Store`] trait.
//!
//! The store holds queue messages, runs with their steps and attempts, log
//! lines, and events. Every backend (SQLite for one machine, PostgreSQL for
//! many machines) implements the same trait and must pass the same
//! [`conformance`] suite; callers never know which backend they talk to.
//!
//! This crate knows nothing of the project file, of HTTP or of how handlers run.

pub mod conformance;
mod error;
mod migration;
mod model;
pub mod postgres;
pub mod sqlite;

pub use error::StoreError;
pub use model::*;

use async_trait::async_trait;
use sluice_core::time::EpochMillis;
use sluice_core::RunStatus;

/// Result of every store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Durable queues, runs, logs and events.
///
/// # Queue invariants (tested by [`conformance`])
///
/// * **At-least-once**: an enqueued message stays in the store until it is
///   acked or moved to a dead-letter queue. A lease that is neither acked nor
///   failed expires after the queue's visibility timeout and the message is
///   delivered again.
/// * **Fencing**: a [`Receipt`] names one delivery. Ack, fail and extend succeed
///   only while no later delivery of the same message exists; otherwise they
///   return [`StoreError::LeaseLost`].
/// * **Dead letters**: a message whose delivery count reaches the queue's
///   `max_receive_count` is moved to the queue's dead-letter queue instead of
///   being retried or delivered again. It keeps its body, id, group and run,
///   and remembers the queue it came from so it can be redriven.
/// * **Deduplication**: a second message with the same `dedup_key` on the same
///   queue within `dedup_window_ms` of the first is not enqueued; the first
///   message's id (and run) is returned instead.
/// * **Concurrency**: no more than `concurrency` messages of a queue are leased
///   at once, across all processes sharing the store.
/// * **FIFO groups**: a message with a `group` is delivered only when no earlier
///   message of the same group (in enqueue order) remains on the queue, leased
///   or not. Concurrency 1 makes the whole queue strictly sequential.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is, for logs and `sluice up`'s banner (e.g. `sqlite:/path/state.db`).
    fn describe(&self) -> String;

    // ----- queues -----

    /// Creates or updates queue definitions. The dead-letter queue named by a
    /// definition must itself be defined (in the same call or before).
    async fn define_queues(&self, queues: &[QueueDef]) -> StoreResult<()>;

    /// The definition of one queue.
    async fn queue_def(&self, queue: &str) -> StoreResult<QueueDef>;

    /// Enqueues messages in one transaction, in order. Returns one outcome per
    /// message, in the same order.
    async fn enqueue(&self, messages: &[NewMessage]) -> StoreResult<Vec<Enqueued>>;

    /// Leases up to `max` deliverable messages of `queue` for `worker`, for the
    /// queue's visibility timeout, oldest first. Messages past their
    /// `max_receive_count` are dead-lettered here rather than delivered.
    async fn lease(&self, queue: &str, worker: &str, max: usize) -> StoreResult<Vec<Lease>>;

    /// Pushes a lease's expiry to `now + extend_ms` (a heartbeat). Returns the new expiry.
    async fn extend_lease(&self, receipt: &Receipt, extend_ms: u64) -> StoreResult<EpochMillis>;

    /// Acknowledges deliveries: the messages are deleted. Fails with
    /// [`StoreError::LeaseLost`] (acking none) if any receipt is stale.
    async fn ack(&self, receipts: &[Receipt]) -> StoreResult<()>;

    /// Records a failed delivery: the message is made visible again after
    /// `retry_delay_ms`, or moved to the dead-letter queue if it has been
    /// received `max_receive_count` times.
    async fn fail(
        &self,
        receipt: &Receipt,
        error: &str,
        retry_delay_ms: u64,
    ) -> StoreResult<FailOutcome>;

    /// Moves up to `max` messages from a dead-letter queue back to the queues they
    /// came from, with a fresh receive count, and puts the runs they execute
    /// back to `queued`, in one transaction. Returns how many moved.
    async fn redrive(&self, dead_letter_queue: &str, max: usize) -> StoreResult<u64>;

    /// Messages on a queue, oldest first (for `sluice dlq list` and inspection).
    async fn list_messages(&self, queue: &str, limit: usize) -> StoreResult<Vec<MessageInfo>>;

    /// Counts of a queue's messages by state.
    async fn queue_stats(&self, queue: &str) -> StoreResult<QueueStats>;

    /// The earliest time at which a message of `queue` that is not deliverable
    /// now becomes deliverable (a delay, a backoff, or a lease expiring), if any.
    /// Dispatchers sleep until then instead of polling blindly.
    async fn next_wakeup(&self, queue: &str) -> StoreResult<Option<EpochMillis>>;

    // ----- runs -----

    /// Creates a run in status `queued` and enqueues the message that will
    /// execute it, in one transaction: a run is never created without the work
    /// that finishes it. With a `dedup_key` already seen on the queue within its
    /// window, nothing is created and the existing run is returned.
    async fn submit_run(&self, run: &NewRun, message: &NewMessage) -> StoreResult<Submitted>;

    /// One run, or [`StoreError::NotFound`].
    async fn get_run(&self, run_id: &str) -> StoreResult<RunRecord>;

    /// Runs, newest first, filtered.
    async fn list_runs(&self, filter: &RunFilter) -> StoreResult<Vec<RunRecord>>;

    /// Changes a run's status; `started_at` is set on the first move to
    /// `running`, `finished_at` on a terminal status. Output and error replace
    /// the stored ones when given.
    async fn update_run(&self, run_id: &str, update: &RunUpdate) -> StoreResult<RunRecord>;

    /// The steps of a run in order, each with its attempts in order.
    async fn run_steps(&self, run_id: &str) -> StoreResult<Vec<StepRecord>>;

    /// Declares the steps of a run (idempotent: existing steps are kept as they are).
    async fn ensure_steps(&self, run_id: &str, steps: &[NewStep]) -> StoreResult<()>;

    /// Starts a new attempt of a step: the step becomes `running`, the attempt
    /// number is one more than the step's previous attempts.
    async fn start_attempt(
        &self,
        run_id: &str,
        step: &str,
        start: &AttemptStart,
    ) -> StoreResult<AttemptRecord>;

    /// Ends an attempt and sets its step's status and output from the outcome.
    /// `logs` (the attempt's last log lines) are appended in the same
    /// transaction, so a finished attempt always has its logs.
    async fn finish_attempt(
        &self,
        attempt_id: &str,
        outcome: &AttemptOutcome,
        logs: &[NewLogLine],
    ) -> StoreResult<()>;

    /// Opens a delivery of a run, in one transaction. A terminal run is
    /// returned unchanged. Otherwise attempts left running by a previous
    /// delivery are abandoned, `steps` are declared, and the run becomes
    /// `running`. Returns the run and its steps as they now are.
    async fn begin_run(
        &self,
        run_id: &str,
        steps: &[NewStep],
    ) -> StoreResult<(RunRecord, Vec<StepRecord>)>;

    /// Settles the delivery of a run, in one transaction: on success the run
    /// becomes `succeeded` with its output and the message is acked; on
    /// failure the message is retried after the delay (run `retrying`) or
    /// dead-lettered (run `failed`, its error saying where the message went).
    ///
    /// `on_end` are events announcing the run's end: they are recorded (not
    /// yet routed, see [`Store::unrouted_events`]) in the same transaction
    /// when the run ends, succeeded or dead-lettered, and not when it is
    /// retried, so an end is announced if and only if it happened. Returns
    /// their sequence numbers.
    async fn settle_run(
        &self,
        run_id: &str,
        receipt: &Receipt,
        settlement: &Settlement,
        on_end: &[NewEvent],
    ) -> StoreResult<(Settled, Vec<i64>)>;

    /// Marks running attempts of a run as `abandoned` (their process died with a
    /// previous Sluice) and their steps as pending again. Returns how many.
    async fn abandon_running_attempts(&self, run_id: &str) -> StoreResult<u64>;

    /// Prepares a finished run to run again: the named steps (all failed or
    /// pending steps when `steps` is empty) go back to `pending`, the run to
    /// `queued`, and a message to execute it is enqueued, in one transaction.
    /// Steps that succeeded and are not named keep their results.
    async fn rerun(
        &self,
        run_id: &str,
        steps: &[String],
        message: &NewMessage,
    ) -> StoreResult<RunRecord>;

    // ----- schedules -----

    /// Every schedule's persisted state.
    async fn schedule_states(&self) -> StoreResult<Vec<ScheduleState>>;

    /// Creates or replaces a schedule's state (at start, when the schedule is
    /// new or its expression or time zone changed).
    async fn put_schedule_state(&self, state: &ScheduleState) -> StoreResult<()>;

    /// Fires a schedule exactly once across every process sharing the store:
    /// in one transaction, if its next fire time is still `due`, it moves to
    /// `next` and the firing's work is submitted (a skipped firing only moves
    /// the time). Returns `false`, changing nothing, when the stored time is no
    /// longer `due` (another process fired it first).
    async fn fire_schedule(
        &self,
        name: &str,
        due: EpochMillis,
        next: Option<EpochMillis>,
        firing: &Firing,
    ) -> StoreResult<bool>;

    /// Fires a schedule outside its timetable (`sluice trigger`): in one
    /// transaction the firing's work is submitted and becomes the schedule's
    /// last firing (at `at`), so the overlap policy and `sluice schedules`
    /// see it; the next fire time is left alone, and a concurrent timed
    /// firing's compare-and-set is unaffected. Returns the run
    /// and message submitted, or `NotFound` for an unknown schedule.
    async fn fire_schedule_now(
        &self,
        name: &str,
        at: EpochMillis,
        firing: &Firing,
    ) -> StoreResult<Fired>;

    // ----- logs -----

    /// Appends log lines; each gets the next sequence number of its run.
    async fn append_logs(&self, lines: &[NewLogLine]) -> StoreResult<()>;

    /// A run's log lines with sequence number greater than `after_seq`, in order.
    async fn read_logs(
        &self,
        run_id: &str,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<LogLine>>;

    /// Log lines of every run of `target` with a position greater than
    /// `after`, in position order (the commit order of their transactions:
    /// a reader that saw position N will never later find a line below N).
    /// Every status change of a run writes a line of stream
    /// [`STATUS_STREAM`], so this is also the target's status history.
    async fn read_target_logs(
        &self,
        target: &str,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<LogLine>>;

    /// The highest log position so far (0 when there are no lines).
    async fn last_log_position(&self) -> StoreResult<i64>;

    // ----- events -----

    /// Appends an event to the event log; returns its sequence number.
    async fn append_event(&self, event: &NewEvent) -> StoreResult<i64>;

    /// Events with sequence number greater than `after_seq`, in order.
    async fn read_events(&self, after_seq: i64, limit: usize) -> StoreResult<Vec<EventRecord>>;

    /// Appends an event under the id `id` unless one with that id exists.
    /// Returns its sequence number and whether it was already routed, so a
    /// producer that may send the same event twice (a relay redelivering
    /// after a crash) records it once and routes it at most until marked.
    async fn append_event_once(&self, id: &str, event: &NewEvent) -> StoreResult<(i64, bool)>;

    /// Records that event `seq` reached all its targets.
    async fn mark_event_routed(&self, seq: i64) -> StoreResult<()>;

    /// Events recorded at or before `recorded_by` and not yet routed (a
    /// crash came between recording and routing), oldest first.
    async fn unrouted_events(
        &self,
        recorded_by: EpochMillis,
        limit: usize,
    ) -> StoreResult<Vec<EventRecord>>;

    // ----- API tokens -----

    /// Stores a new API token (its secret's hash, never the secret), created
    /// now. A name already used by a token that is not revoked is a
    /// [`StoreError::Conflict`].
    async fn create_token(&self, token: &NewToken) -> StoreResult<TokenRecord>;

    /// One token by id, revoked or not, or [`StoreError::NotFound`].
    async fn get_token(&self, id: &str) -> StoreResult<TokenRecord>;

    /// Every token, revoked ones included, oldest first.
    async fn list_tokens(&self) -> StoreResult<Vec<TokenRecord>>;

    /// Revokes a token now; its record is kept (with `revoked_at`) so its
    /// name and id stay explainable. Revoking twice keeps the first time.
    async fn revoke_token(&self, id: &str) -> StoreResult<TokenRecord>;
}

/// Convenience for the common status-only run update.
pub fn status_update(status: RunStatus) -> RunUpdate {
    RunUpdate {
        status,
        output: None,
        error: None,
    }
}
