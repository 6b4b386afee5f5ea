//! The two transactions that bracket a delivery of a run: begin and settle.
//!
//! Each composes the finer operations of `runs`, `steps` and `lease` into one
//! transaction, exactly as the SQLite backend does, so a crash can never leave
//! a run succeeded with its message still queued (or the reverse). Row locks
//! are taken message first, then run, on every path that takes both, so two
//! settlements cannot deadlock each other.

use super::error::DbResult;
use super::sql::Tx;
use super::{lease, runs, steps};
use crate::{
    FailOutcome, NewEvent, NewStep, Receipt, RunRecord, RunUpdate, Settled, Settlement, StepRecord,
};
use sluice_core::time::EpochMillis;
use sluice_core::RunStatus;

pub(crate) async fn begin_run(
    tx: &Tx<'_>,
    now: EpochMillis,
    run_id: &str,
    declared: &[NewStep],
) -> DbResult<(RunRecord, Vec<StepRecord>)> {
    let run = runs::lock_run(tx, run_id).await?;
    if run.status.is_terminal() {
        return Ok((run, steps::run_steps(tx, run_id).await?));
    }
    let abandoned = steps::abandon_running_attempts(tx, now, run_id).await?;
    if abandoned > 0 {
        tracing::warn!(
            run_id,
            abandoned,
            "attempts left running by a previous delivery were abandoned"
        );
    }
    steps::ensure_steps(tx, run_id, declared).await?;
    let update = RunUpdate {
        status: RunStatus::Running,
        output: None,
        error: None,
    };
    let run = runs::update_run(tx, now, run_id, &update).await?;
    Ok((run, steps::run_steps(tx, run_id).await?))
}

pub(crate) async fn settle_run(
    tx: &Tx<'_>,
    now: EpochMillis,
    run_id: &str,
    receipt: &Receipt,
    settlement: &Settlement,
    on_end: &[NewEvent],
) -> DbResult<(Settled, Vec<i64>)> {
    match settlement {
        Settlement::Succeeded { output } => {
            lease::ack(tx, std::slice::from_ref(receipt)).await?;
            let update = RunUpdate {
                status: RunStatus::Succeeded,
                output: Some(output.clone()),
                error: None,
            };
            runs::update_run(tx, now, run_id, &update).await?;
            let events = record_end(tx, now, on_end).await?;
            Ok((Settled::Succeeded, events))
        }
        Settlement::Failed {
            error,
            retry_delay_ms,
        } => match lease::fail(tx, now, receipt, error, *retry_delay_ms).await? {
            FailOutcome::Retrying { visible_at } => {
                let update = RunUpdate {
                    status: RunStatus::Retrying,
                    output: None,
                    error: Some(error.clone()),
                };
                runs::update_run(tx, now, run_id, &update).await?;
                Ok((Settled::Retrying { visible_at }, Vec::new()))
            }
            FailOutcome::DeadLettered { queue } => {
                let update = crate::dead_lettered_update(error, &queue, receipt.receive_count);
                runs::update_run(tx, now, run_id, &update).await?;
                let events = record_end(tx, now, on_end).await?;
                Ok((Settled::DeadLettered { queue }, events))
            }
        },
    }
}

/// Records the events announcing a run's end, in the settling transaction.
async fn record_end(tx: &Tx<'_>, now: EpochMillis, events: &[NewEvent]) -> DbResult<Vec<i64>> {
    let mut seqs = Vec::with_capacity(events.len());
    for event in events {
        seqs.push(super::logs::append_event(tx, now, event).await?);
    }
    Ok(seqs)
}
