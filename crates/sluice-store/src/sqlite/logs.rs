//! Log lines of runs and the global event log.
//!
//! Log sequence numbers are per run (dense, from 1), so a client tailing one
//! run pages with `after_seq` without seeing gaps caused by other runs. Event
//! sequence numbers are global and never reused (`AUTOINCREMENT`), so an event
//! consumer's cursor stays valid forever.

use super::error::{not_found, DbResult};
use super::messages::sql_limit;
use super::values::{json_text, parse_json};
use crate::{EventRecord, LogLine, NewEvent, NewLogLine};
use rusqlite::{params, Connection, OptionalExtension};
use sluice_core::id::new_id;
use sluice_core::time::EpochMillis;
use std::collections::HashMap;

/// Appends lines, numbering each after the last line of its run, and
/// giving each the next global position (the one writer makes that order
/// the commit order).
pub(crate) fn append_logs(conn: &Connection, lines: &[NewLogLine]) -> DbResult<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut last_seq: HashMap<&str, i64> = HashMap::new();
    let mut position = last_log_position(conn)?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO logs (run_id, seq, step, attempt_id, at, stream, line, gseq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for line in lines {
        let seq = match last_seq.get(line.run_id.as_str()) {
            Some(previous) => previous + 1,
            None => current_log_seq(conn, &line.run_id)? + 1,
        };
        last_seq.insert(&line.run_id, seq);
        position += 1;
        insert.execute(params![
            line.run_id,
            seq,
            line.step,
            line.attempt_id,
            line.at,
            line.stream,
            line.line,
            position
        ])?;
    }
    Ok(())
}

/// The run's highest log sequence number (0 when it has none); NotFound for an unknown run.
fn current_log_seq(conn: &Connection, run_id: &str) -> DbResult<i64> {
    let mut select = conn.prepare_cached(
        "SELECT (SELECT coalesce(max(seq), 0) FROM logs WHERE run_id = ?1)
         FROM runs WHERE id = ?1",
    )?;
    let mut rows = select.query([run_id])?;
    match rows.next()? {
        Some(row) => Ok(row.get(0)?),
        None => Err(not_found("run", run_id)),
    }
}

/// A run's lines after `after_seq`, in order.
pub(crate) fn read_logs(
    conn: &Connection,
    run_id: &str,
    after_seq: i64,
    limit: usize,
) -> DbResult<Vec<LogLine>> {
    super::runs::get_run(conn, run_id)?;
    let mut select = conn.prepare_cached(
        "SELECT seq, run_id, step, attempt_id, at, stream, line, coalesce(gseq, 0) FROM logs
         WHERE run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let lines = select
        .query_map(params![run_id, after_seq, sql_limit(limit)], log_line)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(lines)
}

fn log_line(row: &rusqlite::Row<'_>) -> rusqlite::Result<LogLine> {
    Ok(LogLine {
        seq: row.get(0)?,
        run_id: row.get(1)?,
        step: row.get(2)?,
        attempt_id: row.get(3)?,
        at: row.get(4)?,
        stream: row.get(5)?,
        line: row.get(6)?,
        position: row.get(7)?,
    })
}

/// The lines of every run of `target` after position `after`, in position order.
pub(crate) fn read_target_logs(
    conn: &Connection,
    target: &str,
    after: i64,
    limit: usize,
) -> DbResult<Vec<LogLine>> {
    let mut select = conn.prepare_cached(
        "SELECT l.seq, l.run_id, l.step, l.attempt_id, l.at, l.stream, l.line, l.gseq
         FROM logs l JOIN runs r ON r.id = l.run_id
         WHERE l.gseq > ?2 AND r.target = ?1 ORDER BY l.gseq LIMIT ?3",
    )?;
    let lines = select
        .query_map(params![target, after, sql_limit(limit)], log_line)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(lines)
}

/// The highest position given to a line so far.
pub(crate) fn last_log_position(conn: &Connection) -> DbResult<i64> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(gseq), 0) FROM logs")?
        .query_row([], |row| row.get(0))?)
}

/// Records an event at `now`; returns its sequence number.
pub(crate) fn append_event(conn: &Connection, now: EpochMillis, event: &NewEvent) -> DbResult<i64> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO events (id, at, source, detail_type, detail) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING seq",
    )?;
    Ok(insert.query_row(
        params![
            new_id("evt"),
            now,
            event.source,
            event.detail_type,
            json_text(&event.detail)?
        ],
        |row| row.get(0),
    )?)
}

/// Records `event` as `id` unless that id exists; its seq and whether routed.
pub(crate) fn append_event_once(
    conn: &Connection,
    now: EpochMillis,
    id: &str,
    event: &NewEvent,
) -> DbResult<(i64, bool)> {
    let inserted: Option<i64> = conn
        .prepare_cached(
            "INSERT INTO events (id, at, source, detail_type, detail) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO NOTHING RETURNING seq",
        )?
        .query_row(
            params![
                id,
                now,
                event.source,
                event.detail_type,
                json_text(&event.detail)?
            ],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(seq) = inserted {
        return Ok((seq, false));
    }
    Ok(conn
        .prepare_cached("SELECT seq, routed_at IS NOT NULL FROM events WHERE id = ?1")?
        .query_row(params![id], |row| Ok((row.get(0)?, row.get(1)?)))?)
}

/// Marks event `seq` routed at `now`.
pub(crate) fn mark_event_routed(conn: &Connection, now: EpochMillis, seq: i64) -> DbResult<()> {
    conn.prepare_cached("UPDATE events SET routed_at = ?1 WHERE seq = ?2 AND routed_at IS NULL")?
        .execute(params![now, seq])?;
    Ok(())
}

/// Events recorded by `recorded_by` that were never routed, oldest first.
pub(crate) fn unrouted_events(
    conn: &Connection,
    recorded_by: EpochMillis,
    limit: usize,
) -> DbResult<Vec<EventRecord>> {
    let mut select = conn.prepare_cached(
        "SELECT seq, id, at, source, detail_type, detail FROM events
         WHERE routed_at IS NULL AND at <= ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = select.query(params![recorded_by, sql_limit(limit)])?;
    event_rows(rows)
}

/// Events after `after_seq`, in order.
pub(crate) fn read_events(
    conn: &Connection,
    after_seq: i64,
    limit: usize,
) -> DbResult<Vec<EventRecord>> {
    let mut select = conn.prepare_cached(
        "SELECT seq, id, at, source, detail_type, detail FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = select.query(params![after_seq, sql_limit(limit)])?;
    event_rows(rows)
}

fn event_rows(mut rows: rusqlite::Rows<'_>) -> DbResult<Vec<EventRecord>> {
    let mut events = Vec::new();
    while let Some(row) = rows.next()? {
        events.push(EventRecord {
            seq: row.get(0)?,
            id: row.get(1)?,
            at: row.get(2)?,
            source: row.get(3)?,
            detail_type: row.get(4)?,
            detail: parse_json(&row.get::<_, String>(5)?)?,
        });
    }
    Ok(events)
}
