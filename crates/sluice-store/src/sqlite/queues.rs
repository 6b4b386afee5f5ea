//! Queue definitions: the delivery policy every queue operation consults.
//!
//! Definitions are read from the database on every call rather than cached in
//! memory, because several processes may share the file and one of them may
//! redefine a queue; a primary-key lookup through a cached statement is cheap.

use super::error::{conflict, not_found, DbResult};
use super::values::{to_sql_int, to_u32, to_u64};
use crate::QueueDef;
use rusqlite::{Connection, OptionalExtension};

/// Creates or replaces the definitions, then checks that every named
/// dead-letter queue exists (so a definition may name one defined later in the
/// same call).
pub(crate) fn define_queues(conn: &Connection, defs: &[QueueDef]) -> DbResult<()> {
    for def in defs {
        validate(def)?;
        let mut upsert = conn.prepare_cached(
            "INSERT INTO queues (name, visibility_timeout_ms, max_receive_count, dead_letter_queue,
                                 concurrency, dedup_window_ms, backoff)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (name) DO UPDATE SET
                 visibility_timeout_ms = excluded.visibility_timeout_ms,
                 max_receive_count = excluded.max_receive_count,
                 dead_letter_queue = excluded.dead_letter_queue,
                 concurrency = excluded.concurrency,
                 dedup_window_ms = excluded.dedup_window_ms,
                 backoff = excluded.backoff",
        )?;
        upsert.execute(rusqlite::params![
            def.name,
            to_sql_int(def.visibility_timeout_ms),
            i64::from(def.max_receive_count),
            def.dead_letter_queue,
            def.concurrency.map(i64::from),
            to_sql_int(def.dedup_window_ms),
            serde_json::to_string(&def.backoff)?,
        ])?;
    }
    for def in defs {
        if let Some(dlq) = &def.dead_letter_queue {
            if find_queue(conn, dlq)?.is_none() {
                return Err(not_found("dead-letter queue", dlq));
            }
        }
    }
    Ok(())
}

fn validate(def: &QueueDef) -> DbResult<()> {
    if def.name.is_empty() {
        return Err(conflict("a queue name cannot be empty"));
    }
    if def.visibility_timeout_ms == 0 {
        // A zero timeout would make a leased message deliverable again at once.
        return Err(conflict(format!(
            "queue `{}`: visibility_timeout_ms must be at least 1",
            def.name
        )));
    }
    if def.max_receive_count == 0 {
        return Err(conflict(format!(
            "queue `{}`: max_receive_count must be at least 1",
            def.name
        )));
    }
    if def.dead_letter_queue.as_deref() == Some(def.name.as_str()) {
        return Err(conflict(format!(
            "queue `{}` cannot be its own dead-letter queue",
            def.name
        )));
    }
    if def.concurrency == Some(0) {
        return Err(conflict(format!(
            "queue `{}`: concurrency must be at least 1 (or unlimited)",
            def.name
        )));
    }
    Ok(())
}

/// The definition of `name`, or `None`.
pub(crate) fn find_queue(conn: &Connection, name: &str) -> DbResult<Option<QueueDef>> {
    let mut select = conn.prepare_cached(
        "SELECT name, visibility_timeout_ms, max_receive_count, dead_letter_queue, concurrency,
                dedup_window_ms, backoff
         FROM queues WHERE name = ?1",
    )?;
    let row = select
        .query_row([name], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, Option<i64>>(4)?,
                row.get::<_, i64>(5)?,
                row.get::<_, String>(6)?,
            ))
        })
        .optional()?;
    let Some((name, visibility, max_receive, dlq, concurrency, dedup_window, backoff)) = row else {
        return Ok(None);
    };
    Ok(Some(QueueDef {
        name,
        visibility_timeout_ms: to_u64(visibility),
        max_receive_count: to_u32(max_receive),
        dead_letter_queue: dlq,
        concurrency: concurrency.map(to_u32),
        dedup_window_ms: to_u64(dedup_window),
        backoff: serde_json::from_str(&backoff)?,
    }))
}

/// The definition of `name`, or [`crate::StoreError::NotFound`].
pub(crate) fn load_queue(conn: &Connection, name: &str) -> DbResult<QueueDef> {
    find_queue(conn, name)?.ok_or_else(|| not_found("queue", name))
}
