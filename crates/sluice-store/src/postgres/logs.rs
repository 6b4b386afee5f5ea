//! Log lines of runs and the global event log.
//!
//! Log sequence numbers are per run and dense from 1: appending bumps the
//! run's `log_seq` counter by the number of lines in one `UPDATE ... RETURNING`,
//! which hands this transaction a contiguous block and makes concurrent
//! appenders to the same run wait on its row lock (so blocks commit in order
//! and a tailing reader never sees a gap fill in later).
//!
//! Event sequence numbers come from an identity column. Identity values are
//! handed out at insert, not at commit, so two concurrent appenders could
//! commit out of order and a consumer reading "after 41" could see 43, move
//! its cursor, and never see 42. Appenders therefore take the schema's events
//! advisory lock first: events commit in sequence order.

use super::error::{not_found, DbResult};
use super::runs::get_run;
use super::schema::{EVENTS_LOCK, LOGS_LOCK};
use super::sql::{self, json_text, parse_json, Tx};
use crate::{EventRecord, LogLine, NewEvent, NewLogLine};
use sluice_core::id::new_id;
use sluice_core::time::EpochMillis;
use std::collections::HashMap;

/// Appends lines, numbering each after the last line of its run.
pub(crate) async fn append_logs(tx: &Tx<'_>, lines: &[NewLogLine]) -> DbResult<()> {
    if lines.is_empty() {
        return Ok(());
    }
    // Already held when the store method took it first (see `lock_log_order`).
    lock_log_order(tx).await?;
    // Lines per run, in order of first appearance, then one counter bump per run.
    let mut counts: Vec<(&str, i64)> = Vec::new();
    for line in lines {
        match counts.iter_mut().find(|(run, _)| *run == line.run_id) {
            Some((_, count)) => *count += 1,
            None => counts.push((&line.run_id, 1)),
        }
    }
    let mut next_seq: HashMap<&str, i64> = HashMap::with_capacity(counts.len());
    for (run_id, count) in counts {
        let row = sql::query_opt(
            tx,
            "UPDATE runs SET log_seq = log_seq + $2 WHERE id = $1 RETURNING log_seq",
            &[&run_id, &count],
        )
        .await?;
        let last: i64 = row.ok_or_else(|| not_found("run", run_id))?.get(0);
        next_seq.insert(run_id, last - count + 1);
    }
    let mut run_ids = Vec::with_capacity(lines.len());
    let mut seqs = Vec::with_capacity(lines.len());
    let mut steps = Vec::with_capacity(lines.len());
    let mut attempts = Vec::with_capacity(lines.len());
    let mut ats = Vec::with_capacity(lines.len());
    let mut streams = Vec::with_capacity(lines.len());
    let mut texts = Vec::with_capacity(lines.len());
    for line in lines {
        let seq = next_seq
            .get_mut(line.run_id.as_str())
            .expect("counted above");
        run_ids.push(line.run_id.as_str());
        seqs.push(*seq);
        *seq += 1;
        steps.push(line.step.as_deref());
        attempts.push(line.attempt_id.as_deref());
        ats.push(line.at);
        streams.push(line.stream.as_str());
        texts.push(line.line.as_str());
    }
    sql::execute(
        tx,
        "INSERT INTO logs (run_id, seq, step, attempt_id, at, stream, line, gseq)
         SELECT a, b, c, d, e, f, g, nextval('log_position') FROM (
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[],
                                  $5::bigint[], $6::text[], $7::text[])
                 WITH ORDINALITY AS t(a, b, c, d, e, f, g, n) ORDER BY n) AS lines",
        &[&run_ids, &seqs, &steps, &attempts, &ats, &streams, &texts],
    )
    .await?;
    Ok(())
}

/// A run's lines after `after_seq`, in order.
pub(crate) async fn read_logs(
    tx: &Tx<'_>,
    run_id: &str,
    after_seq: i64,
    limit: usize,
) -> DbResult<Vec<LogLine>> {
    get_run(tx, run_id).await?;
    let rows = sql::query(
        tx,
        "SELECT seq, run_id, step, attempt_id, at, stream, line, coalesce(gseq, 0) FROM logs
         WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        &[&run_id, &after_seq, &sql::sql_limit(limit)],
    )
    .await?;
    Ok(rows.iter().map(log_line).collect())
}

fn log_line(row: &tokio_postgres::Row) -> LogLine {
    LogLine {
        seq: row.get(0),
        run_id: row.get(1),
        step: row.get(2),
        attempt_id: row.get(3),
        at: row.get(4),
        stream: row.get(5),
        line: row.get(6),
        position: row.get(7),
    }
}

/// Serializes the transactions that append log lines, so positions (drawn
/// from a sequence) are committed in order. Store methods that may append
/// lines take it before any row lock, which keeps the lock order fixed
/// (advisory lock, then rows) and deadlocks impossible; taking it again
/// later in the same transaction is a no-op.
pub(crate) async fn lock_log_order(tx: &Tx<'_>) -> DbResult<()> {
    sql::execute(
        tx,
        "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()::text))",
        &[&LOGS_LOCK],
    )
    .await?;
    Ok(())
}

/// The lines of every run of `target` after position `after`, in position order.
pub(crate) async fn read_target_logs(
    tx: &Tx<'_>,
    target: &str,
    after: i64,
    limit: usize,
) -> DbResult<Vec<LogLine>> {
    let rows = sql::query(
        tx,
        "SELECT l.seq, l.run_id, l.step, l.attempt_id, l.at, l.stream, l.line, l.gseq
         FROM logs l JOIN runs r ON r.id = l.run_id
         WHERE l.gseq > $2 AND r.target = $1 ORDER BY l.gseq LIMIT $3",
        &[&target, &after, &sql::sql_limit(limit)],
    )
    .await?;
    Ok(rows.iter().map(log_line).collect())
}

/// The highest position given to a committed line so far.
pub(crate) async fn last_log_position(tx: &Tx<'_>) -> DbResult<i64> {
    let row = sql::query_one(tx, "SELECT coalesce(max(gseq), 0) FROM logs", &[]).await?;
    Ok(row.get(0))
}

/// Records an event at `now`; returns its sequence number.
pub(crate) async fn append_event(tx: &Tx<'_>, now: EpochMillis, event: &NewEvent) -> DbResult<i64> {
    sql::execute(
        tx,
        "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()::text))",
        &[&EVENTS_LOCK],
    )
    .await?;
    let row = sql::query_one(
        tx,
        "INSERT INTO events (id, at, source, detail_type, detail) VALUES ($1, $2, $3, $4, $5)
         RETURNING seq",
        &[
            &new_id("evt"),
            &now,
            &event.source,
            &event.detail_type,
            &json_text(&event.detail)?,
        ],
    )
    .await?;
    Ok(row.get(0))
}

/// Records `event` as `id` unless that id exists; its seq and whether routed.
pub(crate) async fn append_event_once(
    tx: &Tx<'_>,
    now: EpochMillis,
    id: &str,
    event: &NewEvent,
) -> DbResult<(i64, bool)> {
    sql::execute(
        tx,
        "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()::text))",
        &[&EVENTS_LOCK],
    )
    .await?;
    let inserted = sql::query(
        tx,
        "INSERT INTO events (id, at, source, detail_type, detail) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO NOTHING RETURNING seq",
        &[
            &id,
            &now,
            &event.source,
            &event.detail_type,
            &json_text(&event.detail)?,
        ],
    )
    .await?;
    if let Some(row) = inserted.first() {
        return Ok((row.get(0), false));
    }
    let row = sql::query_one(
        tx,
        "SELECT seq, routed_at IS NOT NULL FROM events WHERE id = $1",
        &[&id],
    )
    .await?;
    Ok((row.get(0), row.get(1)))
}

/// Marks event `seq` routed at `now`.
pub(crate) async fn mark_event_routed(tx: &Tx<'_>, now: EpochMillis, seq: i64) -> DbResult<()> {
    sql::execute(
        tx,
        "UPDATE events SET routed_at = $1 WHERE seq = $2 AND routed_at IS NULL",
        &[&now, &seq],
    )
    .await?;
    Ok(())
}

/// Events recorded by `recorded_by` that were never routed, oldest first.
pub(crate) async fn unrouted_events(
    tx: &Tx<'_>,
    recorded_by: EpochMillis,
    limit: usize,
) -> DbResult<Vec<EventRecord>> {
    let rows = sql::query(
        tx,
        "SELECT seq, id, at, source, detail_type, detail FROM events
         WHERE routed_at IS NULL AND at <= $1 ORDER BY seq LIMIT $2",
        &[&recorded_by, &sql::sql_limit(limit)],
    )
    .await?;
    event_records(&rows)
}

/// Events after `after_seq`, in order.
pub(crate) async fn read_events(
    tx: &Tx<'_>,
    after_seq: i64,
    limit: usize,
) -> DbResult<Vec<EventRecord>> {
    let rows = sql::query(
        tx,
        "SELECT seq, id, at, source, detail_type, detail FROM events
         WHERE seq > $1 ORDER BY seq LIMIT $2",
        &[&after_seq, &sql::sql_limit(limit)],
    )
    .await?;
    event_records(&rows)
}

fn event_records(rows: &[tokio_postgres::Row]) -> DbResult<Vec<EventRecord>> {
    rows.iter()
        .map(|row| {
            Ok(EventRecord {
                seq: row.get(0),
                id: row.get(1),
                at: row.get(2),
                source: row.get(3),
                detail_type: row.get(4),
                detail: parse_json(row.get(5))?,
            })
        })
        .collect()
}
