//! Schedule state: the next fire time of each schedule, advanced by a
//! compare-and-set so that one firing happens once however many processes
//! run the scheduler.

use super::error::{not_found, DbResult};
use super::{messages, runs};
use crate::{Fired, Firing, ScheduleState};
use rusqlite::{params, Connection, OptionalExtension};
use sluice_core::time::EpochMillis;

pub(crate) fn schedule_states(conn: &Connection) -> DbResult<Vec<ScheduleState>> {
    let mut select = conn.prepare_cached(
        "SELECT name, expression, timezone, next_fire_at, last_fired_at, last_run_id FROM schedules ORDER BY name",
    )?;
    let rows = select.query_map([], |row| {
        Ok(ScheduleState {
            name: row.get(0)?,
            expression: row.get(1)?,
            timezone: row.get(2)?,
            next_fire_at: row.get(3)?,
            last_fired_at: row.get(4)?,
            last_run_id: row.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn put_schedule_state(conn: &Connection, state: &ScheduleState) -> DbResult<()> {
    conn.prepare_cached(
        "INSERT INTO schedules (name, expression, timezone, next_fire_at, last_fired_at, last_run_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (name) DO UPDATE SET expression = ?2, timezone = ?3, next_fire_at = ?4,
             last_fired_at = ?5, last_run_id = ?6",
    )?
    .execute(params![
        state.name,
        state.expression,
        state.timezone,
        state.next_fire_at,
        state.last_fired_at,
        state.last_run_id
    ])?;
    Ok(())
}

/// Submits a firing's work: the run and message it created, if any.
fn submit_firing(conn: &Connection, now: EpochMillis, firing: &Firing) -> DbResult<Fired> {
    Ok(match firing {
        Firing::Run { run, message } => {
            let submitted = runs::submit_run(conn, now, run, message)?;
            Fired {
                run_id: Some(submitted.run_id),
                message_id: Some(submitted.message_id),
            }
        }
        Firing::Message(message) => {
            let enqueued = messages::enqueue(conn, now, std::slice::from_ref(message))?;
            Fired {
                run_id: None,
                message_id: enqueued.into_iter().next().map(|e| e.message_id),
            }
        }
        Firing::Skip => Fired::default(),
    })
}

pub(crate) fn fire_schedule_now(
    conn: &Connection,
    now: EpochMillis,
    name: &str,
    at: EpochMillis,
    firing: &Firing,
) -> DbResult<Fired> {
    let known = conn
        .prepare_cached("SELECT 1 FROM schedules WHERE name = ?1")?
        .exists([name])?;
    if !known {
        return Err(not_found("schedule", name));
    }
    let fired = submit_firing(conn, now, firing)?;
    let run_id = fired.run_id.clone();
    conn.prepare_cached(
        "UPDATE schedules SET last_fired_at = ?2, last_run_id = coalesce(?3, last_run_id)
         WHERE name = ?1",
    )?
    .execute(params![name, at, run_id])?;
    Ok(fired)
}

pub(crate) fn fire_schedule(
    conn: &Connection,
    now: EpochMillis,
    name: &str,
    due: EpochMillis,
    next: Option<EpochMillis>,
    firing: &Firing,
) -> DbResult<bool> {
    let stored: Option<Option<EpochMillis>> = conn
        .prepare_cached("SELECT next_fire_at FROM schedules WHERE name = ?1")?
        .query_row([name], |row| row.get(0))
        .optional()?;
    if stored != Some(Some(due)) {
        return Ok(false);
    }
    let run_id = submit_firing(conn, now, firing)?.run_id;
    conn.prepare_cached(
        "UPDATE schedules SET next_fire_at = ?2, last_fired_at = ?3,
             last_run_id = coalesce(?4, last_run_id)
         WHERE name = ?1",
    )?
    .execute(params![name, next, due, run_id])?;
    Ok(true)
}
