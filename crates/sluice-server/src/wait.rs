//! Long-polling: answer when a run finishes or has new log lines, or when the
//! caller's wait runs out, whichever comes first.
//!
//! The waiter subscribes to the engine's hub *before* reading the store, so a
//! change between the read and the wait is never missed.

use crate::ApiError;
use serde::{Deserialize, Serialize};
use sluice_engine::{Engine, Notice};
use sluice_store::{RunRecord, StepRecord};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct WaitQuery {
    /// Seconds to wait for the run to finish (or for new log lines).
    pub wait: Option<f64>,
}

impl WaitQuery {
    pub fn seconds(&self) -> Option<Duration> {
        self.wait
            .filter(|w| *w > 0.0)
            .map(|w| Duration::from_secs_f64(w.min(3600.0)))
    }
}

/// A run with its steps and their attempts.
#[derive(Debug, Serialize)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunRecord,
    pub steps: Vec<StepRecord>,
}

pub async fn run_detail(engine: &Engine, run_id: &str) -> Result<RunDetail, ApiError> {
    let run = engine.store().get_run(run_id).await?;
    let steps = engine.store().run_steps(run_id).await?;
    Ok(RunDetail { run, steps })
}

/// The run once it is terminal, or as it is when the wait runs out.
pub async fn wait_for_run(
    engine: &Engine,
    run_id: &str,
    wait: &WaitQuery,
) -> Result<RunDetail, ApiError> {
    let deadline = Instant::now() + wait.seconds().unwrap_or_default();
    // Only the run's own row is re-read per notice: a fan-out of 10,000
    // items sends tens of thousands of notices, and re-reading every step
    // each time would cost more than the run itself. The steps are read once,
    // for the answer.
    let mut notices = engine.hub().subscribe();
    loop {
        let run = engine.store().get_run(run_id).await?;
        if run.status.is_terminal() || !wait_for_notice(&mut notices, run_id, deadline, false).await
        {
            return run_detail(engine, run_id).await;
        }
        // Notices that piled up while reading say nothing the next read won't.
        while notices.try_recv().is_ok() {}
    }
}

/// Waits for a notice about `run_id` (a status change, or also new logs when
/// `logs` is true). Returns false when the deadline passed first.
pub async fn wait_for_notice(
    notices: &mut tokio::sync::broadcast::Receiver<Notice>,
    run_id: &str,
    deadline: Instant,
    logs: bool,
) -> bool {
    loop {
        match tokio::time::timeout_at(deadline, notices.recv()).await {
            Err(_) => return false,
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => return true,
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => return false,
            Ok(Ok(notice)) => {
                let relevant = match &notice {
                    Notice::RunChanged { run_id: id } | Notice::RunFinished { run_id: id } => {
                        id == run_id
                    }
                    Notice::LogsAppended { run_id: id } => logs && id == run_id,
                };
                if relevant {
                    return true;
                }
            }
        }
    }
}
