//! Schedule state on PostgreSQL: the compare-and-set on the next fire time
//! locks the schedule's row, so two processes firing the same due time
//! serialize and the second sees that the time has moved on.

use super::error::{not_found, DbResult};
use super::queues;
use super::runs;
use super::sql::{self, Tx};
use crate::{Fired, Firing, ScheduleState};
use sluice_core::time::EpochMillis;

pub(crate) async fn schedule_states(tx: &Tx<'_>) -> DbResult<Vec<ScheduleState>> {
    let rows = sql::query(
        tx,
        "SELECT name, expression, timezone, next_fire_at, last_fired_at, last_run_id FROM schedules ORDER BY name",
        &[],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|row| ScheduleState {
            name: row.get(0),
            expression: row.get(1),
            timezone: row.get(2),
            next_fire_at: row.get(3),
            last_fired_at: row.get(4),
            last_run_id: row.get(5),
        })
        .collect())
}

pub(crate) async fn put_schedule_state(tx: &Tx<'_>, state: &ScheduleState) -> DbResult<()> {
    sql::execute(
        tx,
        "INSERT INTO schedules (name, expression, timezone, next_fire_at, last_fired_at, last_run_id)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (name) DO UPDATE SET expression = $2, timezone = $3, next_fire_at = $4,
             last_fired_at = $5, last_run_id = $6",
        &[&state.name, &state.expression, &state.timezone, &state.next_fire_at, &state.last_fired_at, &state.last_run_id],
    )
    .await?;
    Ok(())
}

/// Submits a firing's work: the run and message it created, if any.
async fn submit_firing(tx: &Tx<'_>, now: EpochMillis, firing: &Firing) -> DbResult<Fired> {
    Ok(match firing {
        Firing::Run { run, message } => {
            let submitted = runs::submit_run(tx, now, run, message).await?;
            Fired {
                run_id: Some(submitted.run_id),
                message_id: Some(submitted.message_id),
            }
        }
        Firing::Message(message) => {
            let enqueued = queues::enqueue(tx, now, std::slice::from_ref(message)).await?;
            Fired {
                run_id: None,
                message_id: enqueued.into_iter().next().map(|e| e.message_id),
            }
        }
        Firing::Skip => Fired::default(),
    })
}

pub(crate) async fn fire_schedule_now(
    tx: &Tx<'_>,
    now: EpochMillis,
    name: &str,
    at: EpochMillis,
    firing: &Firing,
) -> DbResult<Fired> {
    let row = sql::query_opt(
        tx,
        "SELECT 1 FROM schedules WHERE name = $1 FOR UPDATE",
        &[&name],
    )
    .await?;
    if row.is_none() {
        return Err(not_found("schedule", name));
    }
    let fired = submit_firing(tx, now, firing).await?;
    let run_id = fired.run_id.clone();
    sql::execute(
        tx,
        "UPDATE schedules SET last_fired_at = $2, last_run_id = coalesce($3, last_run_id) WHERE name = $1",
        &[&name, &at, &run_id],
    )
    .await?;
    Ok(fired)
}

pub(crate) async fn fire_schedule(
    tx: &Tx<'_>,
    now: EpochMillis,
    name: &str,
    due: EpochMillis,
    next: Option<EpochMillis>,
    firing: &Firing,
) -> DbResult<bool> {
    let row = sql::query_opt(
        tx,
        "SELECT next_fire_at FROM schedules WHERE name = $1 FOR UPDATE",
        &[&name],
    )
    .await?;
    let stored: Option<Option<i64>> = row.map(|r| r.get(0));
    if stored != Some(Some(due)) {
        return Ok(false);
    }
    let run_id = submit_firing(tx, now, firing).await?.run_id;
    sql::execute(
        tx,
        "UPDATE schedules SET next_fire_at = $2, last_fired_at = $3, last_run_id = coalesce($4, last_run_id) WHERE name = $1",
        &[&name, &next, &due, &run_id],
    )
    .await?;
    Ok(true)
}
