//! Steps of a run and the attempts at each step.
//!
//! A step's status always follows its latest attempt: starting an attempt
//! makes the step `running`; finishing it makes the step `succeeded`, `failed`,
//! or (for an abandoned attempt) `pending` again. Starting an attempt updates
//! the step row first, so two starters of one step take turns on its row lock
//! and number their attempts 1, 2, ... without a gap or a clash.

use super::error::{conflict, not_found, DbResult};
use super::runs::get_run;
use super::sql::{self, opt_json_text, parse_name, parse_opt_json, to_u32, Tx};
use crate::{AttemptOutcome, AttemptRecord, AttemptStart, NewStep, StepRecord};
use sluice_core::id::new_id;
use sluice_core::time::EpochMillis;
use sluice_core::{AttemptStatus, StepStatus};
use tokio_postgres::Row;

const ATTEMPT_COLUMNS: &str =
    "id, run_id, step, number, status, worker, input, output, error, exit_code, started_at, finished_at";

fn attempt_from_row(row: &Row) -> DbResult<AttemptRecord> {
    Ok(AttemptRecord {
        id: row.get(0),
        run_id: row.get(1),
        step: row.get(2),
        number: to_u32(row.get(3)),
        status: parse_name(row.get(4))?,
        worker: row.get(5),
        input: parse_opt_json(row.get(6))?,
        output: parse_opt_json(row.get(7))?,
        error: row.get(8),
        exit_code: row.get(9),
        started_at: row.get(10),
        finished_at: row.get(11),
    })
}

/// The steps of a run by position, each with its attempts by number.
pub(crate) async fn run_steps(tx: &Tx<'_>, run_id: &str) -> DbResult<Vec<StepRecord>> {
    get_run(tx, run_id).await?;
    let rows = sql::query(
        tx,
        "SELECT run_id, name, position, status, output, error, started_at, finished_at
         FROM steps WHERE run_id = $1 ORDER BY position, name",
        &[&run_id],
    )
    .await?;
    let mut steps = Vec::with_capacity(rows.len());
    for row in &rows {
        steps.push(StepRecord {
            run_id: row.get(0),
            name: row.get(1),
            position: to_u32(row.get(2)),
            status: parse_name(row.get(3))?,
            output: parse_opt_json(row.get(4))?,
            error: row.get(5),
            started_at: row.get(6),
            finished_at: row.get(7),
            attempts: Vec::new(),
        });
    }
    let sql =
        format!("SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE run_id = $1 ORDER BY step, number");
    for row in &sql::query(tx, &sql, &[&run_id]).await? {
        let attempt = attempt_from_row(row)?;
        if let Some(step) = steps.iter_mut().find(|s| s.name == attempt.step) {
            step.attempts.push(attempt);
        }
    }
    Ok(steps)
}

/// Declares steps; existing ones are left untouched.
pub(crate) async fn ensure_steps(tx: &Tx<'_>, run_id: &str, steps: &[NewStep]) -> DbResult<()> {
    get_run(tx, run_id).await?;
    if steps.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    let positions: Vec<i64> = steps.iter().map(|s| i64::from(s.position)).collect();
    sql::execute(
        tx,
        "INSERT INTO steps (run_id, name, position, status)
         SELECT $1, name, position, $4 FROM unnest($2::text[], $3::bigint[]) AS s (name, position)
         ON CONFLICT (run_id, name) DO NOTHING",
        &[&run_id, &names, &positions, &StepStatus::Pending.as_str()],
    )
    .await?;
    Ok(())
}

/// Records a new running attempt numbered after the step's previous ones.
pub(crate) async fn start_attempt(
    tx: &Tx<'_>,
    now: EpochMillis,
    run_id: &str,
    step: &str,
    start: &AttemptStart,
) -> DbResult<AttemptRecord> {
    let updated = sql::execute(
        tx,
        "UPDATE steps SET status = $3, started_at = coalesce(started_at, $4), finished_at = NULL
         WHERE run_id = $1 AND name = $2",
        &[&run_id, &step, &StepStatus::Running.as_str(), &now],
    )
    .await?;
    if updated == 0 {
        return Err(not_found("step", &format!("{run_id}/{step}")));
    }
    let sql = format!(
        "INSERT INTO attempts (id, run_id, step, number, status, worker, input, started_at)
         VALUES ($1, $2, $3,
                 (SELECT coalesce(max(number), 0) + 1 FROM attempts WHERE run_id = $2 AND step = $3),
                 $4, $5, $6, $7)
         RETURNING {ATTEMPT_COLUMNS}"
    );
    let row = sql::query_one(
        tx,
        &sql,
        &[
            &new_id("att"),
            &run_id,
            &step,
            &AttemptStatus::Running.as_str(),
            &start.worker,
            &opt_json_text(start.input.as_ref())?,
            &now,
        ],
    )
    .await?;
    attempt_from_row(&row)
}

/// Ends a running attempt and carries its outcome to the step.
pub(crate) async fn finish_attempt(
    tx: &Tx<'_>,
    now: EpochMillis,
    attempt_id: &str,
    outcome: &AttemptOutcome,
) -> DbResult<()> {
    if !outcome.status.is_finished() {
        return Err(conflict(format!(
            "attempt `{attempt_id}` cannot finish with status {}",
            outcome.status
        )));
    }
    let current = sql::query_opt(
        tx,
        "SELECT run_id, step, status FROM attempts WHERE id = $1 FOR UPDATE",
        &[&attempt_id],
    )
    .await?;
    let Some(current) = current else {
        return Err(not_found("attempt", attempt_id));
    };
    let (run_id, step, status): (String, String, String) =
        (current.get(0), current.get(1), current.get(2));
    if status != AttemptStatus::Running.as_str() {
        return Err(conflict(format!(
            "attempt `{attempt_id}` already ended as {status}"
        )));
    }
    let output = opt_json_text(outcome.output.as_ref())?;
    sql::execute(
        tx,
        "UPDATE attempts SET status = $2, output = $3, error = $4, exit_code = $5, finished_at = $6
         WHERE id = $1",
        &[
            &attempt_id,
            &outcome.status.as_str(),
            &output,
            &outcome.error,
            &outcome.exit_code,
            &now,
        ],
    )
    .await?;
    let (step_status, finished_at, error) = crate::step_after_attempt(outcome, now);
    sql::execute(
        tx,
        "UPDATE steps SET status = $3, output = $4, error = $5, finished_at = $6
         WHERE run_id = $1 AND name = $2",
        &[
            &run_id,
            &step,
            &step_status.as_str(),
            &output,
            &error,
            &finished_at,
        ],
    )
    .await?;
    Ok(())
}

/// Marks the run's running attempts abandoned and their steps pending.
pub(crate) async fn abandon_running_attempts(
    tx: &Tx<'_>,
    now: EpochMillis,
    run_id: &str,
) -> DbResult<u64> {
    get_run(tx, run_id).await?;
    let rows = sql::query(
        tx,
        "UPDATE attempts SET status = $2, finished_at = $3, error = coalesce(error, $4)
         WHERE run_id = $1 AND status = $5
         RETURNING step",
        &[
            &run_id,
            &AttemptStatus::Abandoned.as_str(),
            &now,
            &"abandoned: the process running it ended",
            &AttemptStatus::Running.as_str(),
        ],
    )
    .await?;
    let steps: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    if !steps.is_empty() {
        sql::execute(
            tx,
            "UPDATE steps SET status = $3, finished_at = NULL
             WHERE run_id = $1 AND name = ANY($2) AND status = $4",
            &[
                &run_id,
                &steps,
                &StepStatus::Pending.as_str(),
                &StepStatus::Running.as_str(),
            ],
        )
        .await?;
    }
    Ok(steps.len() as u64)
}
