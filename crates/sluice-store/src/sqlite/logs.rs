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
use rusqlite::{params, Connection};
use sluice_core::id::new_id;
use sluice_core::time::EpochMillis;
use std::collections::HashMap;

/// Appends lines, numbering each after the last line of its run.
pub(crate) fn append_logs(conn: &Connection, lines: &[NewLogLine]) -> DbResult<()> {
    let mut last_seq: HashMap<&str, i64> = HashMap::new();
    let mut insert = conn.prepare_cached(
        "INSERT INTO logs (run_id, seq, step, attempt_id, at, stream, line) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for line in lines {
        let seq = match last_seq.get(line.run_id.as_str()) {
            Some(previous) => previous + 1,
            None => current_log_seq(conn, &line.run_id)? + 1,
        };
        last_seq.insert(&line.run_id, seq);
        insert.execute(params![
            line.run_id,
            seq,
            line.step,
            line.attempt_id,
            line.at,
            line.stream,
            line.line
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
        "SELECT seq, run_id, step, attempt_id, at, stream, line FROM logs
         WHERE run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let lines = select
        .query_map(params![run_id, after_seq, sql_limit(limit)], |row| {
            Ok(LogLine {
                seq: row.get(0)?,
                run_id: row.get(1)?,
                step: row.get(2)?,
                attempt_id: row.get(3)?,
                at: row.get(4)?,
                stream: row.get(5)?,
                line: row.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(lines)
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

/// Events after `after_seq`, in order.
pub(crate) fn read_events(
    conn: &Connection,
    after_seq: i64,
    limit: usize,
) -> DbResult<Vec<EventRecord>> {
    let mut select = conn.prepare_cached(
        "SELECT seq, id, at, source, detail_type, detail FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let mut rows = select.query(params![after_seq, sql_limit(limit)])?;
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
