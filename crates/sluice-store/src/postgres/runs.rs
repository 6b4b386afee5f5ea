//! Runs: creation together with their message, status changes, listing, rerun.
//!
//! A status change reads the run and then writes it; under `READ COMMITTED`
//! two such changes could interleave, so the write paths read the run with
//! `FOR NO KEY UPDATE` (it blocks other writers of the row but not the key-share
//! locks that inserting its steps and logs takes through the foreign keys).

use super::error::{conflict, not_found, DbResult};
use super::queues::{enqueue_checked, EnqueueOutcome};
use super::sql::{self, json_text, opt_json_text, parse_json, parse_name, parse_opt_json, Tx};
use crate::{NewMessage, NewRun, RunFilter, RunRecord, RunUpdate, Submitted};
use sluice_core::time::EpochMillis;
use sluice_core::{RunStatus, StepStatus};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

const RUN_COLUMNS: &str =
    "id, kind, target, status, trigger, input, output, error, created_at, started_at, finished_at";

/// Creates the run and its message, or returns the earlier ones for a duplicate dedup key.
pub(crate) async fn submit_run(
    tx: &Tx<'_>,
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
    match enqueue_checked(tx, now, &message).await? {
        EnqueueOutcome::Duplicate { message_id, run_id: Some(run_id) } => {
            Ok(Submitted { run_id, message_id, duplicate: true })
        }
        EnqueueOutcome::Duplicate { message_id, run_id: None } => Err(conflict(format!(
            "dedup key {:?} on queue `{}` was already used by message `{message_id}`, which is not a run",
            message.dedup_key.as_deref().unwrap_or_default(),
            message.queue
        ))),
        EnqueueOutcome::Inserted { message_id } => {
            let inserted = sql::execute(
                tx,
                "INSERT INTO runs (id, kind, target, status, trigger, input, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &run.id,
                    &run.kind.as_str(),
                    &run.target,
                    &RunStatus::Queued.as_str(),
                    &run.trigger,
                    &json_text(&run.input)?,
                    &now,
                ],
            )
            .await?;
            if inserted == 0 {
                // The error rolls back the message enqueued above.
                return Err(conflict(format!("run `{}` already exists", run.id)));
            }
            Ok(Submitted { run_id: run.id.clone(), message_id, duplicate: false })
        }
    }
}

fn run_from_row(row: &Row) -> DbResult<RunRecord> {
    Ok(RunRecord {
        id: row.get(0),
        kind: parse_name(row.get(1))?,
        target: row.get(2),
        status: parse_name(row.get(3))?,
        trigger: row.get(4),
        input: parse_json(row.get(5))?,
        output: parse_opt_json(row.get(6))?,
        error: row.get(7),
        created_at: row.get(8),
        started_at: row.get(9),
        finished_at: row.get(10),
    })
}

/// One run, or [`crate::StoreError::NotFound`].
pub(crate) async fn get_run(tx: &Tx<'_>, run_id: &str) -> DbResult<RunRecord> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1");
    match sql::query_opt(tx, &sql, &[&run_id]).await? {
        Some(row) => run_from_row(&row),
        None => Err(not_found("run", run_id)),
    }
}

/// One run, locked against other writers until the transaction ends.
pub(crate) async fn lock_run(tx: &Tx<'_>, run_id: &str) -> DbResult<RunRecord> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1 FOR NO KEY UPDATE");
    match sql::query_opt(tx, &sql, &[&run_id]).await? {
        Some(row) => run_from_row(&row),
        None => Err(not_found("run", run_id)),
    }
}

/// Runs newest first (ids are time-ordered). The SQL is assembled from fixed
/// fragments, so each filter combination is its own cached statement and can
/// use the `(status, id)` or `(target, id)` index.
pub(crate) async fn list_runs(tx: &Tx<'_>, filter: &RunFilter) -> DbResult<Vec<RunRecord>> {
    let mut sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE TRUE");
    let mut args: Vec<&(dyn ToSql + Sync)> = Vec::new();
    let status = filter.status.map(RunStatus::as_str);
    if let Some(status) = &status {
        args.push(status);
        sql.push_str(&format!(" AND status = ${}", args.len()));
    }
    if let Some(target) = &filter.target {
        args.push(target);
        sql.push_str(&format!(" AND target = ${}", args.len()));
    }
    if let Some(before) = &filter.before {
        args.push(before);
        sql.push_str(&format!(" AND id < ${}", args.len()));
    }
    let limit = sql::sql_limit(filter.limit);
    args.push(&limit);
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", args.len()));
    let rows = sql::query(tx, &sql, &args).await?;
    rows.iter().map(run_from_row).collect()
}

/// Applies a status change. A terminal run keeps its status (only a rerun
/// reopens it); repeating the same terminal status is accepted so a retried
/// "mark succeeded" is harmless.
pub(crate) async fn update_run(
    tx: &Tx<'_>,
    now: EpochMillis,
    run_id: &str,
    update: &RunUpdate,
) -> DbResult<RunRecord> {
    let current = lock_run(tx, run_id).await?;
    let (started_at, finished_at) =
        crate::run_transition(&current, update, now).map_err(conflict)?;
    let sql = format!(
        "UPDATE runs SET status = $2, output = coalesce($3, output), error = coalesce($4, error),
                         started_at = $5, finished_at = $6
         WHERE id = $1 RETURNING {RUN_COLUMNS}"
    );
    let row = sql::query_one(
        tx,
        &sql,
        &[
            &run_id,
            &update.status.as_str(),
            &opt_json_text(update.output.as_ref())?,
            &update.error,
            &started_at,
            &finished_at,
        ],
    )
    .await?;
    let run = run_from_row(&row)?;
    if current.status != run.status {
        super::logs::append_logs(tx, &[crate::model::status_line(&run, now)]).await?;
    }
    Ok(run)
}

/// Reopens a terminal run: resets the chosen steps, sets the run back to
/// `queued` and enqueues its message, all in the caller's transaction.
pub(crate) async fn rerun(
    tx: &Tx<'_>,
    now: EpochMillis,
    run_id: &str,
    steps: &[String],
    message: &NewMessage,
) -> DbResult<RunRecord> {
    let run = lock_run(tx, run_id).await?;
    if !run.status.is_terminal() {
        return Err(conflict(format!(
            "run `{run_id}` is {}; only a finished run can be rerun",
            run.status
        )));
    }
    const RESET: &str = "UPDATE steps SET status = 'pending', output = NULL, error = NULL,
                                started_at = NULL, finished_at = NULL";
    for step in steps {
        let reset = sql::execute(
            tx,
            &format!("{RESET} WHERE run_id = $1 AND name = $2"),
            &[&run_id, step],
        )
        .await?;
        if reset == 0 {
            return Err(not_found("step", &format!("{run_id}/{step}")));
        }
    }
    if steps.is_empty() {
        sql::execute(
            tx,
            &format!("{RESET} WHERE run_id = $1 AND status <> $2"),
            &[&run_id, &StepStatus::Succeeded.as_str()],
        )
        .await?;
    }
    sql::execute(
        tx,
        "UPDATE runs SET status = $2, output = NULL, error = NULL, started_at = NULL, finished_at = NULL
         WHERE id = $1",
        &[&run_id, &RunStatus::Queued.as_str()],
    )
    .await?;
    let message = NewMessage {
        run_id: Some(run_id.to_string()),
        ..message.clone()
    };
    if let EnqueueOutcome::Duplicate { message_id, .. } = enqueue_checked(tx, now, &message).await?
    {
        return Err(conflict(format!(
            "the rerun message's dedup key matches message `{message_id}` enqueued within the dedup window; \
             use another key to rerun `{run_id}`"
        )));
    }
    get_run(tx, run_id).await
}
