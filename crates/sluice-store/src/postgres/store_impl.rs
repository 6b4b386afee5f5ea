//! The [`Store`] trait implemented for [`PostgresStore`].
//!
//! Each method picks a read-write or a read-only transaction and delegates
//! to the module that owns the logic. No SQL lives here.

use super::{
    dead_letters, delivery, lease, logs, queues, read_tx, runs, schedules, steps, tokens, write_tx,
    PostgresStore,
};
use crate::*;
use async_trait::async_trait;
use sluice_core::time::EpochMillis;

#[async_trait]
impl Store for PostgresStore {
    fn describe(&self) -> String {
        self.description.to_string()
    }

    async fn define_queues(&self, defs: &[QueueDef]) -> StoreResult<()> {
        write_tx!(self, "define queues", |tx, _now| queues::define_queues(
            &tx, defs
        ))
    }

    async fn queue_def(&self, queue: &str) -> StoreResult<QueueDef> {
        read_tx!(
            self,
            "read queue definition",
            |tx, _now| queues::load_queue(&tx, queue)
        )
    }

    async fn enqueue(&self, messages: &[NewMessage]) -> StoreResult<Vec<Enqueued>> {
        write_tx!(self, "enqueue", |tx, now| queues::enqueue(
            &tx, now, messages
        ))
    }

    async fn lease(&self, queue: &str, worker: &str, max: usize) -> StoreResult<Vec<Lease>> {
        write_tx!(self, "lease", |tx, now| lease::lease(
            &tx, now, queue, worker, max
        ))
    }

    async fn extend_lease(&self, receipt: &Receipt, extend_ms: u64) -> StoreResult<EpochMillis> {
        write_tx!(self, "extend lease", |tx, now| lease::extend_lease(
            &tx, now, receipt, extend_ms
        ))
    }

    async fn ack(&self, receipts: &[Receipt]) -> StoreResult<()> {
        write_tx!(self, "ack", |tx, _now| lease::ack(&tx, receipts))
    }

    async fn fail(
        &self,
        receipt: &Receipt,
        error: &str,
        retry_delay_ms: u64,
    ) -> StoreResult<FailOutcome> {
        write_tx!(self, "fail", |tx, now| lease::fail(
            &tx,
            now,
            receipt,
            error,
            retry_delay_ms
        ))
    }

    async fn redrive(&self, dead_letter_queue: &str, max: usize) -> StoreResult<u64> {
        write_tx!(self, "redrive", |tx, now| dead_letters::redrive(
            &tx,
            now,
            dead_letter_queue,
            max
        ))
    }

    async fn list_messages(&self, queue: &str, limit: usize) -> StoreResult<Vec<MessageInfo>> {
        read_tx!(self, "list messages", |tx, _now| queues::list_messages(
            &tx, queue, limit
        ))
    }

    async fn queue_stats(&self, queue: &str) -> StoreResult<QueueStats> {
        read_tx!(self, "queue stats", |tx, now| queues::queue_stats(
            &tx, now, queue
        ))
    }

    async fn next_wakeup(&self, queue: &str) -> StoreResult<Option<EpochMillis>> {
        read_tx!(self, "next wakeup", |tx, now| queues::next_wakeup(
            &tx, now, queue
        ))
    }

    async fn submit_run(&self, run: &NewRun, message: &NewMessage) -> StoreResult<Submitted> {
        write_tx!(self, "submit run", |tx, now| runs::submit_run(
            &tx, now, run, message
        ))
    }

    async fn get_run(&self, run_id: &str) -> StoreResult<RunRecord> {
        read_tx!(self, "get run", |tx, _now| runs::get_run(&tx, run_id))
    }

    async fn list_runs(&self, filter: &RunFilter) -> StoreResult<Vec<RunRecord>> {
        read_tx!(self, "list runs", |tx, _now| runs::list_runs(&tx, filter))
    }

    async fn update_run(&self, run_id: &str, update: &RunUpdate) -> StoreResult<RunRecord> {
        write_tx!(self, "update run", |tx, now| async {
            logs::lock_log_order(&tx).await?;
            runs::update_run(&tx, now, run_id, update).await
        })
    }

    async fn run_steps(&self, run_id: &str) -> StoreResult<Vec<StepRecord>> {
        read_tx!(self, "read run steps", |tx, _now| steps::run_steps(
            &tx, run_id
        ))
    }

    async fn ensure_steps(&self, run_id: &str, new_steps: &[NewStep]) -> StoreResult<()> {
        write_tx!(self, "declare steps", |tx, _now| steps::ensure_steps(
            &tx, run_id, new_steps
        ))
    }

    async fn start_attempt(
        &self,
        run_id: &str,
        step: &str,
        start: &AttemptStart,
    ) -> StoreResult<AttemptRecord> {
        write_tx!(self, "start attempt", |tx, now| steps::start_attempt(
            &tx, now, run_id, step, start
        ))
    }

    async fn finish_attempt(
        &self,
        attempt_id: &str,
        outcome: &AttemptOutcome,
        log_lines: &[NewLogLine],
    ) -> StoreResult<()> {
        write_tx!(self, "finish attempt", |tx, now| async {
            logs::lock_log_order(&tx).await?;
            logs::append_logs(&tx, log_lines).await?;
            steps::finish_attempt(&tx, now, attempt_id, outcome).await
        })
    }

    async fn begin_run(
        &self,
        run_id: &str,
        steps: &[NewStep],
    ) -> StoreResult<(RunRecord, Vec<StepRecord>)> {
        write_tx!(self, "begin run", |tx, now| async {
            logs::lock_log_order(&tx).await?;
            delivery::begin_run(&tx, now, run_id, steps).await
        })
    }

    async fn settle_run(
        &self,
        run_id: &str,
        receipt: &Receipt,
        settlement: &Settlement,
        on_end: &[NewEvent],
    ) -> StoreResult<(Settled, Vec<i64>)> {
        write_tx!(self, "settle run", |tx, now| async {
            logs::lock_log_order(&tx).await?;
            delivery::settle_run(&tx, now, run_id, receipt, settlement, on_end).await
        })
    }

    async fn abandon_running_attempts(&self, run_id: &str) -> StoreResult<u64> {
        write_tx!(self, "abandon attempts", |tx, now| {
            steps::abandon_running_attempts(&tx, now, run_id)
        })
    }

    async fn rerun(
        &self,
        run_id: &str,
        step_names: &[String],
        message: &NewMessage,
    ) -> StoreResult<RunRecord> {
        write_tx!(self, "rerun", |tx, now| runs::rerun(
            &tx, now, run_id, step_names, message
        ))
    }

    async fn append_logs(&self, lines: &[NewLogLine]) -> StoreResult<()> {
        write_tx!(self, "append logs", |tx, _now| logs::append_logs(
            &tx, lines
        ))
    }

    async fn read_target_logs(
        &self,
        target: &str,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<LogLine>> {
        read_tx!(self, "read a target's logs", |tx, _now| {
            logs::read_target_logs(&tx, target, after, limit)
        })
    }

    async fn last_log_position(&self) -> StoreResult<i64> {
        read_tx!(self, "read the last log position", |tx, _now| {
            logs::last_log_position(&tx)
        })
    }

    async fn read_logs(
        &self,
        run_id: &str,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<LogLine>> {
        read_tx!(self, "read logs", |tx, _now| logs::read_logs(
            &tx, run_id, after_seq, limit
        ))
    }

    async fn append_event(&self, event: &NewEvent) -> StoreResult<i64> {
        write_tx!(self, "append event", |tx, now| logs::append_event(
            &tx, now, event
        ))
    }

    async fn read_events(&self, after_seq: i64, limit: usize) -> StoreResult<Vec<EventRecord>> {
        read_tx!(self, "read events", |tx, _now| logs::read_events(
            &tx, after_seq, limit
        ))
    }

    async fn append_event_once(&self, id: &str, event: &NewEvent) -> StoreResult<(i64, bool)> {
        write_tx!(
            self,
            "append event once",
            |tx, now| logs::append_event_once(&tx, now, id, event)
        )
    }

    async fn mark_event_routed(&self, seq: i64) -> StoreResult<()> {
        write_tx!(self, "mark an event routed", |tx, now| {
            logs::mark_event_routed(&tx, now, seq)
        })
    }

    async fn unrouted_events(
        &self,
        recorded_by: EpochMillis,
        limit: usize,
    ) -> StoreResult<Vec<EventRecord>> {
        read_tx!(self, "read unrouted events", |tx, _now| {
            logs::unrouted_events(&tx, recorded_by, limit)
        })
    }

    async fn schedule_states(&self) -> StoreResult<Vec<ScheduleState>> {
        read_tx!(self, "read schedules", |tx, _now| {
            schedules::schedule_states(&tx)
        })
    }

    async fn put_schedule_state(&self, state: &ScheduleState) -> StoreResult<()> {
        write_tx!(self, "store schedule", |tx, _now| {
            schedules::put_schedule_state(&tx, state)
        })
    }

    async fn fire_schedule(
        &self,
        name: &str,
        due: EpochMillis,
        next: Option<EpochMillis>,
        firing: &Firing,
    ) -> StoreResult<bool> {
        write_tx!(self, "fire schedule", |tx, now| schedules::fire_schedule(
            &tx, now, name, due, next, firing
        ))
    }

    async fn fire_schedule_now(
        &self,
        name: &str,
        at: EpochMillis,
        firing: &Firing,
    ) -> StoreResult<Fired> {
        write_tx!(self, "fire schedule now", |tx, now| {
            schedules::fire_schedule_now(&tx, now, name, at, firing)
        })
    }

    async fn create_token(&self, token: &NewToken) -> StoreResult<TokenRecord> {
        write_tx!(self, "create token", |tx, now| tokens::create_token(
            &tx, now, token
        ))
    }

    async fn get_token(&self, id: &str) -> StoreResult<TokenRecord> {
        read_tx!(self, "read token", |tx, _now| tokens::get_token(&tx, id))
    }

    async fn list_tokens(&self) -> StoreResult<Vec<TokenRecord>> {
        read_tx!(self, "list tokens", |tx, _now| tokens::list_tokens(&tx))
    }

    async fn revoke_token(&self, id: &str) -> StoreResult<TokenRecord> {
        write_tx!(self, "revoke token", |tx, now| tokens::revoke_token(
            &tx, now, id
        ))
    }
}
