//! Steps of a run and the attempts at each step.
//!
//! A step's status always follows its latest attempt: starting an attempt
//! makes the step `running`; finishing it makes the step `succeeded`,
//! `failed`, or (for an abandoned attempt) `pending` again, ready to retry.

use super::error::{conflict, not_found, DbResult};
use super::runs::get_run;
use super::values::{opt_json_text, parse_name, parse_opt_json, to_u32};
use crate::{AttemptOutcome, AttemptRecord, AttemptStart, NewStep, StepRecord};
use rusqlite::{params, Connection, OptionalExtension, Row};
use sluice_core::id::new_id;
use sluice_core::time::EpochMillis;
use sluice_core::{AttemptStatus, StepStatus};

const ATTEMPT_COLUMNS: &str =
    "id, run_id, step, number, status, worker, input, output, error, exit_code, started_at, finished_at";

fn attempt_from_row(row: &Row<'_>) -> DbResult<AttemptRecord> {
    Ok(AttemptRecord {
        id: row.get(0)?,
        run_id: row.get(1)?,
        step: row.get(2)?,
        number: to_u32(row.get(3)?),
        status: parse_name(&row.get::<_, String>(4)?)?,
        worker: row.get(5)?,
        input: parse_opt_json(row.get(6)?)?,
        output: parse_opt_json(row.get(7)?)?,
        error: row.get(8)?,
        exit_code: row.get(9)?,
        started_at: row.get(10)?,
        finished_at: row.get(11)?,
    })
}

/// The steps of a run by position, each with its attempts by number.
pub(crate) fn run_steps(conn: &Connection, run_id: &str) -> DbResult<Vec<StepRecord>> {
    get_run(conn, run_id)?;
    let mut select_steps = conn.prepare_cached(
        "SELECT run_id, name, position, status, output, error, started_at, finished_at
         FROM steps WHERE run_id = ?1 ORDER BY position, name",
    )?;
    let mut rows = select_steps.query([run_id])?;
    let mut steps = Vec::new();
    while let Some(row) = rows.next()? {
        steps.push(StepRecord {
            run_id: row.get(0)?,
            name: row.get(1)?,
            position: to_u32(row.get(2)?),
            status: parse_name(&row.get::<_, String>(3)?)?,
            output: parse_opt_json(row.get(4)?)?,
            error: row.get(5)?,
            started_at: row.get(6)?,
            finished_at: row.get(7)?,
            attempts: Vec::new(),
        });
    }
    let mut select_attempts = conn.prepare_cached(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE run_id = ?1 ORDER BY step, number"
    ))?;
    let mut rows = select_attempts.query([run_id])?;
    while let Some(row) = rows.next()? {
        let attempt = attempt_from_row(row)?;
        if let Some(step) = steps.iter_mut().find(|s| s.name == attempt.step) {
            step.attempts.push(attempt);
        }
    }
    Ok(steps)
}

/// Declares steps; existing ones are left untouched.
pub(crate) fn ensure_steps(conn: &Connection, run_id: &str, steps: &[NewStep]) -> DbResult<()> {
    get_run(conn, run_id)?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO steps (run_id, name, position, status) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (run_id, name) DO NOTHING",
    )?;
    for step in steps {
        insert.execute(params![
            run_id,
            step.name,
            step.position,
            StepStatus::Pending.as_str()
        ])?;
    }
    Ok(())
}

/// Records a new running attempt numbered after the step's previous ones.
pub(crate) fn start_attempt(
    conn: &Connection,
    now: EpochMillis,
    run_id: &str,
    step: &str,
    start: &AttemptStart,
) -> DbResult<AttemptRecord> {
    let updated = conn
        .prepare_cached(
            "UPDATE steps SET status = ?3, started_at = coalesce(started_at, ?4), finished_at = NULL
             WHERE run_id = ?1 AND name = ?2",
        )?
        .execute(params![run_id, step, StepStatus::Running.as_str(), now])?;
    if updated == 0 {
        return Err(not_found("step", &format!("{run_id}/{step}")));
    }
    let mut insert = conn.prepare_cached(&format!(
        "INSERT INTO attempts (id, run_id, step, number, status, worker, input, started_at)
         VALUES (?1, ?2, ?3,
                 (SELECT coalesce(max(number), 0) + 1 FROM attempts WHERE run_id = ?2 AND step = ?3),
                 ?4, ?5, ?6, ?7)
         RETURNING {ATTEMPT_COLUMNS}"
    ))?;
    let mut rows = insert.query(params![
        new_id("att"),
        run_id,
        step,
        AttemptStatus::Running.as_str(),
        start.worker,
        opt_json_text(start.input.as_ref())?,
        now,
    ])?;
    match rows.next()? {
        Some(row) => attempt_from_row(row),
        None => Err(not_found("step", &format!("{run_id}/{step}"))),
    }
}

/// Ends a running attempt and carries its outcome to the step.
pub(crate) fn finish_attempt(
    conn: &Connection,
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
    let current: Option<(String, String, String)> = conn
        .prepare_cached("SELECT run_id, step, status FROM attempts WHERE id = ?1")?
        .query_row([attempt_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?;
    let Some((run_id, step, status)) = current else {
        return Err(not_found("attempt", attempt_id));
    };
    if status != AttemptStatus::Running.as_str() {
        return Err(conflict(format!(
            "attempt `{attempt_id}` already ended as {status}"
        )));
    }
    conn.prepare_cached(
        "UPDATE attempts SET status = ?2, output = ?3, error = ?4, exit_code = ?5, finished_at = ?6 WHERE id = ?1",
    )?
    .execute(params![
        attempt_id,
        outcome.status.as_str(),
        opt_json_text(outcome.output.as_ref())?,
        outcome.error,
        outcome.exit_code,
        now,
    ])?;
    let (step_status, finished_at, error) = crate::step_after_attempt(outcome, now);
    conn.prepare_cached(
        "UPDATE steps SET status = ?3, output = ?4, error = ?5, finished_at = ?6 WHERE run_id = ?1 AND name = ?2",
    )?
    .execute(params![
        run_id,
        step,
        step_status.as_str(),
        opt_json_text(outcome.output.as_ref())?,
        error,
        finished_at,
    ])?;
    Ok(())
}

/// Marks the run's running attempts abandoned and their steps pending.
pub(crate) fn abandon_running_attempts(
    conn: &Connection,
    now: EpochMillis,
    run_id: &str,
) -> DbResult<u64> {
    get_run(conn, run_id)?;
    let abandoned_steps = conn
        .prepare_cached(
            "UPDATE attempts SET status = ?2, finished_at = ?3, error = coalesce(error, ?4)
             WHERE run_id = ?1 AND status = ?5
             RETURNING step",
        )?
        .query_map(
            params![
                run_id,
                AttemptStatus::Abandoned.as_str(),
                now,
                "abandoned: the process running it ended",
                AttemptStatus::Running.as_str(),
            ],
            |row| row.get::<_, String>(0),
        )?
        .collect::<Result<Vec<String>, _>>()?;
    let mut reset = conn.prepare_cached(
        "UPDATE steps SET status = ?3, finished_at = NULL WHERE run_id = ?1 AND name = ?2 AND status = ?4",
    )?;
    for step in &abandoned_steps {
        reset.execute(params![
            run_id,
            step,
            StepStatus::Pending.as_str(),
            StepStatus::Running.as_str()
        ])?;
    }
    Ok(abandoned_steps.len() as u64)
}
