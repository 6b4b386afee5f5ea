//! Runs: creation together with their message, status changes, listing, rerun.

use super::error::{conflict, not_found, DbError, DbResult};
use super::messages::{enqueue_checked, sql_limit, EnqueueOutcome};
use super::values::{json_text, opt_json_text, parse_json, parse_name, parse_opt_json};
use crate::{NewMessage, NewRun, RunFilter, RunRecord, RunUpdate, StoreError, Submitted};
use rusqlite::{params, Connection, OptionalExtension, Row};
use sluice_core::time::EpochMillis;
use sluice_core::RunStatus;

const RUN_COLUMNS: &str =
    "id, kind, target, status, trigger, input, output, error, created_at, started_at, finished_at";

/// Creates the run and its message, or returns the earlier ones for a duplicate dedup key.
pub(crate) fn submit_run(
    conn: &Connection,
    now: EpochMillis,
    run: &NewRun,
    message: &NewMessage,
) -> DbResult<Submitted> {
    let message = NewMessage {
        run_id: Some(run.id.clone()),
        ..message.clone()
    };
    // Enqueue first: on a duplicate nothing at all is written. On success the
    // run is inserted in the same transaction, so neither exists without the other.
    match enqueue_checked(conn, now, &message)? {
        EnqueueOutcome::Duplicate { message_id, run_id: Some(run_id) } => {
            Ok(Submitted { run_id, message_id, duplicate: true })
        }
        EnqueueOutcome::Duplicate { message_id, run_id: None } => Err(conflict(format!(
            "dedup key {:?} on queue `{}` was already used by message `{message_id}`, which is not a run",
            message.dedup_key.as_deref().unwrap_or_default(),
            message.queue
        ))),
        EnqueueOutcome::Inserted { message_id } => {
            if find_run(conn, &run.id)?.is_some() {
                return Err(conflict(format!("run `{}` already exists", run.id)));
            }
            conn.prepare_cached(
                "INSERT INTO runs (id, kind, target, status, trigger, input, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                run.id,
                run.kind.as_str(),
                run.target,
                RunStatus::Queued.as_str(),
                run.trigger,
                json_text(&run.input)?,
                now,
            ])?;
            Ok(Submitted { run_id: run.id.clone(), message_id, duplicate: false })
        }
    }
}

fn run_from_row(row: &Row<'_>) -> DbResult<RunRecord> {
    Ok(RunRecord {
        id: row.get(0)?,
        kind: parse_name(&row.get::<_, String>(1)?)?,
        target: row.get(2)?,
        status: parse_name(&row.get::<_, String>(3)?)?,
        trigger: row.get(4)?,
        input: parse_json(&row.get::<_, String>(5)?)?,
        output: parse_opt_json(row.get(6)?)?,
        error: row.get(7)?,
        created_at: row.get(8)?,
        started_at: row.get(9)?,
        finished_at: row.get(10)?,
    })
}

/// One run, or `None`.
pub(crate) fn find_run(conn: &Connection, run_id: &str) -> DbResult<Option<RunRecord>> {
    let mut select =
        conn.prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"))?;
    let mut rows = select.query([run_id])?;
    rows.next()?.map(run_from_row).transpose()
}

/// One run, or [`StoreError::NotFound`].
pub(crate) fn get_run(conn: &Connection, run_id: &str) -> DbResult<RunRecord> {
    find_run(conn, run_id)?.ok_or_else(|| not_found("run", run_id))
}

/// Runs newest first (ids are time-ordered). The SQL is assembled from fixed
/// fragments so each filter combination gets its own cached statement and can
/// use the `(status, id)` or `(target, id)` index.
pub(crate) fn list_runs(conn: &Connection, filter: &RunFilter) -> DbResult<Vec<RunRecord>> {
    let mut sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE 1 = 1");
    let mut args: Vec<&dyn rusqlite::ToSql> = Vec::new();
    let status = filter.status.map(RunStatus::as_str);
    if let Some(status) = &status {
        args.push(status);
        sql.push_str(&format!(" AND status = ?{}", args.len()));
    }
    if let Some(target) = &filter.target {
        args.push(target);
        sql.push_str(&format!(" AND target = ?{}", args.len()));
    }
    if let Some(before) = &filter.before {
        args.push(before);
        sql.push_str(&format!(" AND id < ?{}", args.len()));
    }
    let limit = sql_limit(filter.limit);
    args.push(&limit);
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ?{}", args.len()));
    let mut select = conn.prepare_cached(&sql)?;
    let mut rows = select.query(args.as_slice())?;
    let mut runs = Vec::new();
    while let Some(row) = rows.next()? {
        runs.push(run_from_row(row)?);
    }
    Ok(runs)
}

/// Applies a status change. A terminal run keeps its status (only a rerun
/// reopens it); repeating the same terminal status is accepted so a retried
/// "mark succeeded" is harmless.
pub(crate) fn update_run(
    conn: &Connection,
    now: EpochMillis,
    run_id: &str,
    update: &RunUpdate,
) -> DbResult<RunRecord> {
    let current = get_run(conn, run_id)?;
    let (started_at, finished_at) =
        crate::run_transition(&current, update, now).map_err(conflict)?;
    let mut write = conn.prepare_cached(&format!(
        "UPDATE runs SET status = ?2, output = coalesce(?3, output), error = coalesce(?4, error),
                         started_at = ?5, finished_at = ?6
         WHERE id = ?1 RETURNING {RUN_COLUMNS}"
    ))?;
    let mut rows = write.query(params![
        run_id,
        update.status.as_str(),
        opt_json_text(update.output.as_ref())?,
        update.error,
        started_at,
        finished_at,
    ])?;
    let run = match rows.next()? {
        Some(row) => run_from_row(row)?,
        None => return Err(not_found("run", run_id)),
    };
    drop(rows);
    if current.status != run.status {
        super::logs::append_logs(conn, &[crate::model::status_line(&run, now)])?;
    }
    Ok(run)
}

/// Reopens a terminal run: resets the chosen steps, sets the run back to
/// `queued` and enqueues its message, all in the caller's transaction.
pub(crate) fn rerun(
    conn: &Connection,
    now: EpochMillis,
    run_id: &str,
    steps: &[String],
    message: &NewMessage,
) -> DbResult<RunRecord> {
    let run = get_run(conn, run_id)?;
    if !run.status.is_terminal() {
        return Err(conflict(format!(
            "run `{run_id}` is {}; only a finished run can be rerun",
            run.status
        )));
    }
    for step in steps {
        let exists: Option<i64> = conn
            .prepare_cached("SELECT 1 FROM steps WHERE run_id = ?1 AND name = ?2")?
            .query_row(params![run_id, step], |row| row.get(0))
            .optional()?;
        if exists.is_none() {
            return Err(not_found("step", format!("{run_id}/{step}").as_str()));
        }
        reset_steps(conn, run_id, "name = ?2", step)?;
    }
    if steps.is_empty() {
        reset_steps(
            conn,
            run_id,
            "status <> ?2",
            sluice_core::StepStatus::Succeeded.as_str(),
        )?;
    }
    conn.prepare_cached(
        "UPDATE runs SET status = ?2, output = NULL, error = NULL, started_at = NULL, finished_at = NULL
         WHERE id = ?1",
    )?
    .execute(params![run_id, RunStatus::Queued.as_str()])?;
    let message = NewMessage {
        run_id: Some(run_id.to_string()),
        ..message.clone()
    };
    if let EnqueueOutcome::Duplicate { message_id, .. } = enqueue_checked(conn, now, &message)? {
        return Err(DbError::Store(StoreError::Conflict(format!(
            "the rerun message's dedup key matches message `{message_id}` enqueued within the dedup window; \
             use another key to rerun `{run_id}`"
        ))));
    }
    get_run(conn, run_id)
}

/// Puts the steps of a run matching `condition` (with `?2` bound to `value`) back to `pending`.
fn reset_steps(conn: &Connection, run_id: &str, condition: &str, value: &str) -> DbResult<()> {
    conn.prepare_cached(&format!(
        "UPDATE steps SET status = 'pending', output = NULL, error = NULL, started_at = NULL, finished_at = NULL
         WHERE run_id = ?1 AND {condition}"
    ))?
    .execute(params![run_id, value])?;
    Ok(())
}
