//! The two transactions that bracket a delivery of a run: begin and settle.
//!
//! Each composes the finer operations of `runs`, `steps` and `lease` into one
//! transaction, so the engine pays one commit where it would pay four, and a
//! crash can never leave a run succeeded with its message still queued (or
//! the reverse).

use super::error::DbResult;
use super::{lease, runs, steps};
use crate::{
    FailOutcome, NewEvent, NewStep, Receipt, RunRecord, RunUpdate, Settled, Settlement, StepRecord,
};
use rusqlite::Connection;
use sluice_core::time::EpochMillis;
use sluice_core::RunStatus;

pub(crate) fn begin_run(
    conn: &Connection,
    now: EpochMillis,
    run_id: &str,
    declared: &[NewStep],
) -> DbResult<(RunRecord, Vec<StepRecord>)> {
    let run = runs::get_run(conn, run_id)?;
    if run.status.is_terminal() {
        return Ok((run, steps::run_steps(conn, run_id)?));
    }
    let abandoned = steps::abandon_running_attempts(conn, now, run_id)?;
    if abandoned > 0 {
        tracing::warn!(
            run_id,
            abandoned,
            "attempts left running by a previous delivery were abandoned"
        );
    }
    steps::ensure_steps(conn, run_id, declared)?;
    let update = RunUpdate {
        status: RunStatus::Running,
        output: None,
        error: None,
    };
    let run = runs::update_run(conn, now, run_id, &update)?;
    Ok((run, steps::run_steps(conn, run_id)?))
}

pub(crate) fn settle_run(
    conn: &Connection,
    now: EpochMillis,
    run_id: &str,
    receipt: &Receipt,
    settlement: &Settlement,
    on_end: &[NewEvent],
) -> DbResult<(Settled, Vec<i64>)> {
    match settlement {
        Settlement::Succeeded { output } => {
            lease::ack(conn, std::slice::from_ref(receipt))?;
            let update = RunUpdate {
                status: RunStatus::Succeeded,
                output: Some(output.clone()),
                error: None,
            };
            runs::update_run(conn, now, run_id, &update)?;
            let events = record_end(conn, now, on_end)?;
            Ok((Settled::Succeeded, events))
        }
        Settlement::Failed {
            error,
            retry_delay_ms,
        } => match lease::fail(conn, now, receipt, error, *retry_delay_ms)? {
            FailOutcome::Retrying { visible_at } => {
                let update = RunUpdate {
                    status: RunStatus::Retrying,
                    output: None,
                    error: Some(error.clone()),
                };
                runs::update_run(conn, now, run_id, &update)?;
                Ok((Settled::Retrying { visible_at }, Vec::new()))
            }
            FailOutcome::DeadLettered { queue } => {
                let update = crate::dead_lettered_update(error, &queue, receipt.receive_count);
                runs::update_run(conn, now, run_id, &update)?;
                let events = record_end(conn, now, on_end)?;
                Ok((Settled::DeadLettered { queue }, events))
            }
        },
    }
}

/// Records the events announcing a run's end, in the settling transaction.
fn record_end(conn: &Connection, now: EpochMillis, events: &[NewEvent]) -> DbResult<Vec<i64>> {
    events
        .iter()
        .map(|event| super::logs::append_event(conn, now, event))
        .collect()
}
