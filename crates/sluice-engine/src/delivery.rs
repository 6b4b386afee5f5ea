//! One delivery of one message: execute its run, then ack, retry or dead-letter.
//!
//! A delivery is idempotent under redelivery. The run is looked up first: a
//! run that already finished (its process died between recording the result
//! and acking) is simply acked. Steps that already succeeded are skipped and
//! their stored output feeds the next step, so a run resumed after a crash
//! redoes only the step that was in flight.

use crate::cancel_watch::CancelWatch;
use crate::engine::Engine;
use crate::heartbeat::Heartbeat;
use crate::hub::Notice;
use crate::logs::{LogScope, RunLog};
use crate::plan::{Consumer, FanOutPlan, PhaseAction};
use crate::run_progress::RunProgress;
use crate::EngineError;
use serde_json::Value;
use sluice_core::{AttemptStatus, StepStatus};
use sluice_store::{
    AttemptOutcome, AttemptStart, Lease, NewStep, QueueDef, RunRecord, Settled, Settlement,
    StepRecord,
};
use std::sync::{Arc, OnceLock};
use tracing::Instrument;

pub(crate) struct Delivery {
    engine: Engine,
    def: QueueDef,
    consumer: Consumer,
    lease: Lease,
    /// The run's aggregate progress, once the run is open.
    progress: OnceLock<Arc<RunProgress>>,
    /// Sees the run cancelled by another process.
    cancel: OnceLock<CancelWatch>,
}

/// A step of a run as the engine executes it.
pub(crate) struct StepPlan {
    pub name: String,
    pub action: PhaseAction,
    /// Set for a phase that fans out over a list.
    pub fan_out: Option<FanOutPlan>,
}

impl Delivery {
    pub fn new(engine: Engine, def: QueueDef, consumer: Consumer, lease: Lease) -> Self {
        Delivery {
            engine,
            def,
            consumer,
            lease,
            progress: OnceLock::new(),
            cancel: OnceLock::new(),
        }
    }

    /// The run's aggregate progress (set once the run is open).
    pub(crate) fn progress(&self) -> Option<&Arc<RunProgress>> {
        self.progress.get()
    }

    /// Whether the run was cancelled while this delivery works on it.
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.get().is_some_and(CancelWatch::is_cancelled)
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The names of the steps (phases) of this delivery's run.
    pub(crate) fn phase_names(&self) -> Vec<String> {
        self.step_plans()
            .map(|steps| steps.into_iter().map(|s| s.name).collect())
            .unwrap_or_default()
    }

    /// The steps a rerun named (`sluice rerun RUN --step NAME`), carried by
    /// its message; `None` for any other delivery.
    pub(crate) fn rerun_only(&self) -> Option<Vec<String>> {
        let named = self.lease.body.get("rerun")?.as_array()?;
        Some(
            named
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect(),
        )
    }

    pub async fn run(self) {
        let span = tracing::info_span!(
            "delivery",
            queue = %self.def.name,
            message_id = %self.lease.receipt.message_id,
            delivery = self.lease.receipt.receive_count,
            run_id = self.lease.run_id.as_deref().unwrap_or("-"),
        );
        async {
            if let Err(err) = self.execute().await {
                // The lease is left to expire, so the message is delivered again.
                tracing::error!(error = %err, "delivery interrupted; the message will be delivered again");
            }
        }
        .instrument(span)
        .await
    }

    async fn execute(&self) -> Result<(), EngineError> {
        let store = self.engine.store().clone();
        let Some(run_id) = self.lease.run_id.clone() else {
            let error = "message has no run: only runs can be delivered on a consumed queue";
            self.settle_failure(None, error).await?;
            return Ok(());
        };
        let steps = self.step_plans()?;
        let declared: Vec<NewStep> = steps
            .iter()
            .enumerate()
            .map(|(i, s)| NewStep {
                name: s.name.clone(),
                position: i as u32,
            })
            .collect();
        // The lease is kept alive from the start: opening a run with a large
        // input can take longer than the visibility timeout.
        let _heartbeat = Heartbeat::start(
            store.clone(),
            self.lease.receipt.clone(),
            self.def.visibility_timeout_ms,
        );
        let (run, recorded) = store.begin_run(&run_id, &declared).await?;
        if run.status.is_terminal() {
            tracing::info!(status = %run.status, "run already finished; acknowledging its message");
            store.ack(std::slice::from_ref(&self.lease.receipt)).await?;
            return Ok(());
        }
        self.engine.hub().publish(Notice::RunChanged {
            run_id: run_id.clone(),
        });
        // A pipeline's run has an aggregate progress; a function's or a
        // notification's is that of its one step.
        let progress = matches!(self.consumer, Consumer::Pipeline(_)).then(|| {
            let log = RunProgress::log_of(&run_id, store.clone(), self.engine.hub().clone());
            self.progress
                .get_or_init(|| RunProgress::new(log, steps.len()))
                .clone()
        });
        let flusher = progress.as_ref().map(|p| p.flush_periodically());
        let cancel = self
            .cancel
            .get_or_init(|| CancelWatch::start(store.clone(), run_id.clone()));
        let outcome = tokio::select! {
            outcome = self.execute_steps(&run, &steps, &recorded) => Some(outcome),
            _ = cancel.cancelled() => None,
        };
        if let Some(flusher) = flusher {
            flusher.abort();
        }
        if let (Some(progress), Some(Ok(Ok(_)))) = (&progress, &outcome) {
            progress.finished();
        }
        if let Some(progress) = &progress {
            progress.flush().await;
        }
        let Some(outcome) = outcome else {
            return self.stop_cancelled(&run_id).await;
        };
        match outcome? {
            Ok(output) => {
                let ends: Vec<_> = self
                    .engine
                    .run_end_event(&run, "succeeded", None)
                    .into_iter()
                    .collect();
                let (_, recorded) = store
                    .settle_run(
                        &run_id,
                        &self.lease.receipt,
                        &Settlement::Succeeded { output },
                        &ends,
                    )
                    .await?;
                self.engine.hub().publish(Notice::RunFinished { run_id });
                tracing::info!("run succeeded");
                self.engine.route_recorded(&recorded).await;
            }
            Err(error) => self.settle_failure(Some(&run), &error).await?,
        }
        Ok(())
    }

    /// The run was cancelled elsewhere while this delivery worked on it: its
    /// work has been dropped (handlers killed); close what it left running
    /// and acknowledge the message, whose run is finished.
    async fn stop_cancelled(&self, run_id: &str) -> Result<(), EngineError> {
        let store = self.engine.store();
        store.abandon_running_attempts(run_id).await?;
        let log = RunProgress::log_of(run_id, store.clone(), self.engine.hub().clone());
        log.note(format!(
            "run cancelled; stopped its work on {}",
            self.engine.worker_id()
        ));
        log.flush().await;
        store.ack(std::slice::from_ref(&self.lease.receipt)).await?;
        tracing::info!("run cancelled elsewhere; its work here stopped");
        self.engine.hub().publish(Notice::RunFinished {
            run_id: run_id.to_string(),
        });
        Ok(())
    }

    /// The steps a run of this queue's consumer executes.
    fn step_plans(&self) -> Result<Vec<StepPlan>, EngineError> {
        Ok(match &self.consumer {
            Consumer::Function(name) => {
                self.engine.function(name)?;
                vec![StepPlan {
                    name: name.clone(),
                    action: PhaseAction::Function(name.clone()),
                    fan_out: None,
                }]
            }
            Consumer::Topic(name) => vec![StepPlan {
                name: "deliver".into(),
                action: PhaseAction::Deliver {
                    topic: name.clone(),
                },
                fan_out: None,
            }],
            Consumer::Pipeline(name) => self
                .engine
                .pipeline(name)?
                .phases
                .iter()
                .map(|p| StepPlan {
                    name: p.name.clone(),
                    action: p.action.clone(),
                    fan_out: p.fan_out.clone(),
                })
                .collect(),
        })
    }

    /// Runs the steps in order, skipping those that already succeeded. The
    /// inner result is the run's outcome; the outer one a store failure.
    async fn execute_steps(
        &self,
        run: &RunRecord,
        steps: &[StepPlan],
        recorded: &[StepRecord],
    ) -> Result<Result<Value, String>, EngineError> {
        let mut input = run.input.clone();
        for (index, step) in steps.iter().enumerate() {
            if let Some(progress) = self.progress() {
                progress.phase_started(index, &step.name);
            }
            let done = recorded
                .iter()
                .find(|r| r.name == step.name)
                .filter(|r| r.status == StepStatus::Succeeded);
            if let Some(StepRecord { output, .. }) = done {
                input = output.clone().unwrap_or(Value::Null);
                continue;
            }
            // A previous phase's large output arrives as a reference.
            let value = match self.engine.resolve_payload(input).await {
                Ok(value) => value,
                Err(error) => return Ok(Err(format!("step `{}` failed: {error}", step.name))),
            };
            let position = steps.iter().position(|s| s.name == step.name).unwrap_or(0) as u32;
            let result = match &step.fan_out {
                Some(fan_out) => {
                    self.fan_out_phase(&run.id, step, position, fan_out, value)
                        .await?
                }
                None => self.attempt(&run.id, step, value).await?,
            };
            match result {
                Ok(output) => input = output,
                Err(error) => return Ok(Err(format!("step `{}` failed: {error}", step.name))),
            }
        }
        Ok(Ok(input))
    }

    /// One attempt at one step, recorded with its logs.
    pub(crate) async fn attempt(
        &self,
        run_id: &str,
        step: &StepPlan,
        input: Value,
    ) -> Result<Result<Value, String>, EngineError> {
        let store = self.engine.store().clone();
        let start = AttemptStart {
            worker: self.engine.worker_id().to_string(),
            input: Some(input.clone()),
        };
        let attempt = store.start_attempt(run_id, &step.name, &start).await?;
        let span = tracing::info_span!("attempt", step = %step.name, attempt_id = %attempt.id, number = attempt.number);
        let scope = LogScope {
            run_id: run_id.to_string(),
            step: Some(step.name.clone()),
            attempt_id: Some(attempt.id.clone()),
        };
        let log = RunLog::feeding(
            scope,
            store.clone(),
            self.engine.hub().clone(),
            self.progress().cloned(),
        );
        log.note(format!(
            "attempt {} of step `{}` started on {}",
            attempt.number,
            step.name,
            self.engine.worker_id()
        ));
        self.engine.hub().publish(Notice::RunChanged {
            run_id: run_id.to_string(),
        });
        let flusher = log.flush_periodically();
        let result = crate::invoke::invoke_step(
            &self.engine,
            run_id,
            &step.name,
            &attempt,
            &step.action,
            input,
            &log,
        )
        .instrument(span.clone())
        .await;
        let result = match result {
            Ok(output) => self
                .engine
                .output_by_reference(run_id, &step.name, output)
                .await
                .map_err(crate::invoke::StepFailure::failed),
            Err(failure) => Err(failure),
        };
        flusher.abort();
        let outcome = match &result {
            Ok(output) => AttemptOutcome {
                status: AttemptStatus::Succeeded,
                output: Some(output.clone()),
                error: None,
                exit_code: Some(0),
            },
            Err(failure) => {
                log.note(format!("attempt failed: {}", failure.message));
                AttemptOutcome {
                    status: failure.status,
                    output: failure.detail.clone(),
                    error: Some(failure.message.clone()),
                    exit_code: failure.exit_code,
                }
            }
        };
        store
            .finish_attempt(&attempt.id, &outcome, &log.take())
            .await?;
        log.announce();
        if let Err(failure) = &result {
            if let Ok(run) = store.get_run(run_id).await {
                self.engine
                    .announce_step_failed(&run, &step.name, &attempt.id, &failure.message)
                    .await;
            }
        }
        span.in_scope(|| tracing::info!(status = %outcome.status, "attempt finished"));
        self.engine.hub().publish(Notice::RunChanged {
            run_id: run_id.to_string(),
        });
        Ok(result.map_err(|f| f.message))
    }

    /// Retries the message after a backoff, or dead-letters it when its
    /// deliveries are used up; the run's status says which.
    async fn settle_failure(
        &self,
        run: Option<&RunRecord>,
        error: &str,
    ) -> Result<(), EngineError> {
        let store = self.engine.store();
        let receive = self.lease.receipt.receive_count;
        let delay = self.def.backoff.sample_delay_ms(receive);
        let Some(run_id) = run.map(|r| r.id.as_str()) else {
            store.fail(&self.lease.receipt, error, delay).await?;
            return Ok(());
        };
        let settlement = Settlement::Failed {
            error: error.to_string(),
            retry_delay_ms: delay,
        };
        // Recorded with the settlement only if it dead-letters the message.
        let ends = match (run, &self.def.dead_letter_queue) {
            (Some(run), Some(dlq)) => {
                self.engine
                    .dead_letter_events(run, &self.def.name, dlq, &self.lease.receipt, error)
            }
            _ => Vec::new(),
        };
        let (settled, recorded) = store
            .settle_run(run_id, &self.lease.receipt, &settlement, &ends)
            .await?;
        let scope = LogScope {
            run_id: run_id.to_string(),
            step: None,
            attempt_id: None,
        };
        let log = RunLog::new(scope, store.clone(), self.engine.hub().clone());
        let notice = match &settled {
            Settled::Retrying { .. } | Settled::Succeeded => {
                let left = self.def.max_receive_count.saturating_sub(receive);
                log.note(format!(
                    "delivery {receive} failed; retrying in {:.1}s ({left} deliveries left)",
                    delay as f64 / 1000.0
                ));
                tracing::warn!(error, delay_ms = delay, "run failed; will retry");
                Notice::RunChanged {
                    run_id: run_id.to_string(),
                }
            }
            Settled::DeadLettered { queue } => {
                log.note(format!(
                    "dead-lettered to `{queue}`; redrive with `sluice dlq redrive {}`",
                    self.def.name
                ));
                tracing::error!(error, dead_letter_queue = %queue, "run failed; message dead-lettered");
                Notice::RunFinished {
                    run_id: run_id.to_string(),
                }
            }
        };
        log.flush().await;
        self.engine.hub().publish(notice);
        self.engine.route_recorded(&recorded).await;
        Ok(())
    }
}
