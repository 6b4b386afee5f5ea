//! The [`Store`] trait implemented for [`SqliteStore`].
//!
//! Each method copies its arguments (the blocking task must own them), picks
//! the writer or the reader connection, and delegates to the module that owns
//! the logic. No SQL lives here.

use super::{
    dead_letters, delivery, lease, logs, messages, queues, runs, schedules, steps, tokens,
    SqliteStore,
};
use crate::*;
use async_trait::async_trait;
use sluice_core::time::EpochMillis;

#[async_trait]
impl Store for SqliteStore {
    fn describe(&self) -> String {
        format!("sqlite:{}", self.location)
    }

    async fn define_queues(&self, queues: &[QueueDef]) -> StoreResult<()> {
        let queues = queues.to_vec();
        self.write("define queues", move |tx, _| {
            queues::define_queues(tx, &queues)
        })
        .await
    }

    async fn queue_def(&self, queue: &str) -> StoreResult<QueueDef> {
        let queue = queue.to_string();
        self.read("read queue definition", move |tx, _| {
            queues::load_queue(tx, &queue)
        })
        .await
    }

    async fn enqueue(&self, messages: &[NewMessage]) -> StoreResult<Vec<Enqueued>> {
        let messages = messages.to_vec();
        self.write("enqueue", move |tx, now| {
            messages::enqueue(tx, now, &messages)
        })
        .await
    }

    async fn lease(&self, queue: &str, worker: &str, max: usize) -> StoreResult<Vec<Lease>> {
        let (queue, worker) = (queue.to_string(), worker.to_string());
        self.write("lease", move |tx, now| {
            lease::lease(tx, now, &queue, &worker, max)
        })
        .await
    }

    async fn extend_lease(&self, receipt: &Receipt, extend_ms: u64) -> StoreResult<EpochMillis> {
        let receipt = receipt.clone();
        self.write("extend lease", move |tx, now| {
            lease::extend_lease(tx, now, &receipt, extend_ms)
        })
        .await
    }

    async fn ack(&self, receipts: &[Receipt]) -> StoreResult<()> {
        let receipts = receipts.to_vec();
        self.write("ack", move |tx, _| lease::ack(tx, &receipts))
            .await
    }

    async fn fail(
        &self,
        receipt: &Receipt,
        error: &str,
        retry_delay_ms: u64,
    ) -> StoreResult<FailOutcome> {
        let (receipt, error) = (receipt.clone(), error.to_string());
        self.write("fail", move |tx, now| {
            lease::fail(tx, now, &receipt, &error, retry_delay_ms)
        })
        .await
    }

    async fn redrive(&self, dead_letter_queue: &str, max: usize) -> StoreResult<u64> {
        let queue = dead_letter_queue.to_string();
        self.write("redrive", move |tx, now| {
            dead_letters::redrive(tx, now, &queue, max)
        })
        .await
    }

    async fn list_messages(&self, queue: &str, limit: usize) -> StoreResult<Vec<MessageInfo>> {
        let queue = queue.to_string();
        self.read("list messages", move |tx, _| {
            messages::list_messages(tx, &queue, limit)
        })
        .await
    }

    async fn queue_stats(&self, queue: &str) -> StoreResult<QueueStats> {
        let queue = queue.to_string();
        self.read("queue stats", move |tx, now| {
            messages::queue_stats(tx, now, &queue)
        })
        .await
    }

    async fn next_wakeup(&self, queue: &str) -> StoreResult<Option<EpochMillis>> {
        let queue = queue.to_string();
        self.read("next wakeup", move |tx, now| {
            messages::next_wakeup(tx, now, &queue)
        })
        .await
    }

    async fn submit_run(&self, run: &NewRun, message: &NewMessage) -> StoreResult<Submitted> {
        let (run, message) = (run.clone(), message.clone());
        self.write("submit run", move |tx, now| {
            runs::submit_run(tx, now, &run, &message)
        })
        .await
    }

    async fn get_run(&self, run_id: &str) -> StoreResult<RunRecord> {
        let run_id = run_id.to_string();
        self.read("get run", move |tx, _| runs::get_run(tx, &run_id))
            .await
    }

    async fn list_runs(&self, filter: &RunFilter) -> StoreResult<Vec<RunRecord>> {
        let filter = filter.clone();
        self.read("list runs", move |tx, _| runs::list_runs(tx, &filter))
            .await
    }

    async fn update_run(&self, run_id: &str, update: &RunUpdate) -> StoreResult<RunRecord> {
        let (run_id, update) = (run_id.to_string(), update.clone());
        self.write("update run", move |tx, now| {
            runs::update_run(tx, now, &run_id, &update)
        })
        .await
    }

    async fn run_steps(&self, run_id: &str) -> StoreResult<Vec<StepRecord>> {
        let run_id = run_id.to_string();
        self.read("read run steps", move |tx, _| steps::run_steps(tx, &run_id))
            .await
    }

    async fn ensure_steps(&self, run_id: &str, new_steps: &[NewStep]) -> StoreResult<()> {
        let (run_id, new_steps) = (run_id.to_string(), new_steps.to_vec());
        self.write("declare steps", move |tx, _| {
            steps::ensure_steps(tx, &run_id, &new_steps)
        })
        .await
    }

    async fn start_attempt(
        &self,
        run_id: &str,
        step: &str,
        start: &AttemptStart,
    ) -> StoreResult<AttemptRecord> {
        let (run_id, step, start) = (run_id.to_string(), step.to_string(), start.clone());
        self.write("start attempt", move |tx, now| {
            steps::start_attempt(tx, now, &run_id, &step, &start)
        })
        .await
    }

    async fn finish_attempt(
        &self,
        attempt_id: &str,
        outcome: &AttemptOutcome,
        log_lines: &[NewLogLine],
    ) -> StoreResult<()> {
        let (attempt_id, outcome, log_lines) =
            (attempt_id.to_string(), outcome.clone(), log_lines.to_vec());
        self.write("finish attempt", move |tx, now| {
            logs::append_logs(tx, &log_lines)?;
            steps::finish_attempt(tx, now, &attempt_id, &outcome)
        })
        .await
    }

    async fn begin_run(
        &self,
        run_id: &str,
        steps: &[NewStep],
    ) -> StoreResult<(RunRecord, Vec<StepRecord>)> {
        let (run_id, steps) = (run_id.to_string(), steps.to_vec());
        self.write("begin run", move |tx, now| {
            delivery::begin_run(tx, now, &run_id, &steps)
        })
        .await
    }

    async fn settle_run(
        &self,
        run_id: &str,
        receipt: &Receipt,
        settlement: &Settlement,
        on_end: &[NewEvent],
    ) -> StoreResult<(Settled, Vec<i64>)> {
        let (run_id, receipt, settlement, on_end) = (
            run_id.to_string(),
            receipt.clone(),
            settlement.clone(),
            on_end.to_vec(),
        );
        self.write("settle run", move |tx, now| {
            delivery::settle_run(tx, now, &run_id, &receipt, &settlement, &on_end)
        })
        .await
    }

    async fn abandon_running_attempts(&self, run_id: &str) -> StoreResult<u64> {
        let run_id = run_id.to_string();
        self.write("abandon attempts", move |tx, now| {
            steps::abandon_running_attempts(tx, now, &run_id)
        })
        .await
    }

    async fn rerun(
        &self,
        run_id: &str,
        step_names: &[String],
        message: &NewMessage,
    ) -> StoreResult<RunRecord> {
        let (run_id, step_names, message) =
            (run_id.to_string(), step_names.to_vec(), message.clone());
        self.write("rerun", move |tx, now| {
            runs::rerun(tx, now, &run_id, &step_names, &message)
        })
        .await
    }

    async fn append_logs(&self, lines: &[NewLogLine]) -> StoreResult<()> {
        let lines = lines.to_vec();
        self.write("append logs", move |tx, _| logs::append_logs(tx, &lines))
            .await
    }

    async fn read_logs(
        &self,
        run_id: &str,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<LogLine>> {
        let run_id = run_id.to_string();
        self.read("read logs", move |tx, _| {
            logs::read_logs(tx, &run_id, after_seq, limit)
        })
        .await
    }

    async fn read_target_logs(
        &self,
        target: &str,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<LogLine>> {
        let target = target.to_string();
        self.read("read a target's logs", move |tx, _| {
            logs::read_target_logs(tx, &target, after, limit)
        })
        .await
    }

    async fn last_log_position(&self) -> StoreResult<i64> {
        self.read("read the last log position", move |tx, _| {
            logs::last_log_position(tx)
        })
        .await
    }

    async fn append_event(&self, event: &NewEvent) -> StoreResult<i64> {
        let event = event.clone();
        self.write("append event", move |tx, now| {
            logs::append_event(tx, now, &event)
        })
        .await
    }

    async fn read_events(&self, after_seq: i64, limit: usize) -> StoreResult<Vec<EventRecord>> {
        self.read("read events", move |tx, _| {
            logs::read_events(tx, after_seq, limit)
        })
        .await
    }

    async fn append_event_once(&self, id: &str, event: &NewEvent) -> StoreResult<(i64, bool)> {
        let (id, event) = (id.to_string(), event.clone());
        self.write("append event once", move |tx, now| {
            logs::append_event_once(tx, now, &id, &event)
        })
        .await
    }

    async fn mark_event_routed(&self, seq: i64) -> StoreResult<()> {
        self.write("mark an event routed", move |tx, now| {
            logs::mark_event_routed(tx, now, seq)
        })
        .await
    }

    async fn unrouted_events(
        &self,
        recorded_by: EpochMillis,
        limit: usize,
    ) -> StoreResult<Vec<EventRecord>> {
        self.read("read unrouted events", move |tx, _| {
            logs::unrouted_events(tx, recorded_by, limit)
        })
        .await
    }

    async fn schedule_states(&self) -> StoreResult<Vec<ScheduleState>> {
        self.read("read schedules", move |tx, _| {
            schedules::schedule_states(tx)
        })
        .await
    }

    async fn put_schedule_state(&self, state: &ScheduleState) -> StoreResult<()> {
        let state = state.clone();
        self.write("store schedule", move |tx, _| {
            schedules::put_schedule_state(tx, &state)
        })
        .await
    }

    async fn fire_schedule(
        &self,
        name: &str,
        due: EpochMillis,
        next: Option<EpochMillis>,
        firing: &Firing,
    ) -> StoreResult<bool> {
        let (name, firing) = (name.to_string(), firing.clone());
        self.write("fire schedule", move |tx, now| {
            schedules::fire_schedule(tx, now, &name, due, next, &firing)
        })
        .await
    }

    async fn fire_schedule_now(
        &self,
        name: &str,
        at: EpochMillis,
        firing: &Firing,
    ) -> StoreResult<Fired> {
        let (name, firing) = (name.to_string(), firing.clone());
        self.write("fire schedule now", move |tx, now| {
            schedules::fire_schedule_now(tx, now, &name, at, &firing)
        })
        .await
    }

    async fn create_token(&self, token: &NewToken) -> StoreResult<TokenRecord> {
        let token = token.clone();
        self.write("create token", move |tx, now| {
            tokens::create_token(tx, now, &token)
        })
        .await
    }

    async fn get_token(&self, id: &str) -> StoreResult<TokenRecord> {
        let id = id.to_string();
        self.read("read token", move |tx, _| tokens::get_token(tx, &id))
            .await
    }

    async fn list_tokens(&self) -> StoreResult<Vec<TokenRecord>> {
        self.read("list tokens", move |tx, _| tokens::list_tokens(tx))
            .await
    }

    async fn revoke_token(&self, id: &str) -> StoreResult<TokenRecord> {
        let id = id.to_string();
        self.write("revoke token", move |tx, now| {
            tokens::revoke_token(tx, now, &id)
        })
        .await
    }
}
