//! Enqueueing (with deduplication) and read-only views of a queue's messages.

use super::error::DbResult;
use super::queues::load_queue;
use super::values::{json_text, later, parse_json, to_sql_int, to_u32, to_u64};
use crate::{Enqueued, MessageInfo, NewMessage, QueueStats};
use rusqlite::{params, Connection, OptionalExtension};
use sluice_core::id::new_id;
use sluice_core::time::EpochMillis;
use std::collections::HashMap;

/// What enqueueing one message did.
pub(crate) enum EnqueueOutcome {
    Inserted {
        message_id: String,
    },
    /// The dedup key was seen within the window: the earlier message (and its run).
    Duplicate {
        message_id: String,
        run_id: Option<String>,
    },
}

impl EnqueueOutcome {
    fn into_enqueued(self) -> Enqueued {
        match self {
            EnqueueOutcome::Inserted { message_id } => Enqueued {
                message_id,
                duplicate: false,
            },
            EnqueueOutcome::Duplicate { message_id, .. } => Enqueued {
                message_id,
                duplicate: true,
            },
        }
    }
}

/// Enqueues `messages` in order. Each queue's definition is read once per call.
pub(crate) fn enqueue(
    conn: &Connection,
    now: EpochMillis,
    messages: &[NewMessage],
) -> DbResult<Vec<Enqueued>> {
    if messages.iter().any(|m| m.dedup_key.is_some()) {
        purge_expired_dedup(conn, now)?;
    }
    let mut dedup_windows: HashMap<&str, u64> = HashMap::new();
    let mut results = Vec::with_capacity(messages.len());
    for message in messages {
        let window = match dedup_windows.get(message.queue.as_str()) {
            Some(window) => *window,
            None => {
                let window = load_queue(conn, &message.queue)?.dedup_window_ms;
                dedup_windows.insert(&message.queue, window);
                window
            }
        };
        results.push(enqueue_one(conn, now, message, window)?.into_enqueued());
    }
    Ok(results)
}

/// Enqueues one message after checking its queue exists (for submit and rerun).
pub(crate) fn enqueue_checked(
    conn: &Connection,
    now: EpochMillis,
    message: &NewMessage,
) -> DbResult<EnqueueOutcome> {
    let window = load_queue(conn, &message.queue)?.dedup_window_ms;
    if message.dedup_key.is_some() {
        purge_expired_dedup(conn, now)?;
    }
    enqueue_one(conn, now, message, window)
}

/// Inserts one message unless its dedup key is still within the window.
fn enqueue_one(
    conn: &Connection,
    now: EpochMillis,
    message: &NewMessage,
    dedup_window_ms: u64,
) -> DbResult<EnqueueOutcome> {
    let dedup_key = message.dedup_key.as_deref().filter(|_| dedup_window_ms > 0);
    if let Some(key) = dedup_key {
        let mut find = conn.prepare_cached(
            "SELECT message_id, run_id FROM dedup WHERE queue = ?1 AND dedup_key = ?2 AND expires_at > ?3",
        )?;
        let earlier = find
            .query_row(params![message.queue, key, now], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        if let Some((message_id, run_id)) = earlier {
            return Ok(EnqueueOutcome::Duplicate { message_id, run_id });
        }
    }
    let message_id = new_id("msg");
    let mut insert = conn.prepare_cached(
        "INSERT INTO messages (id, queue, body, grp, dedup_key, run_id, enqueued_at, visible_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    insert.execute(params![
        message_id,
        message.queue,
        json_text(&message.body)?,
        message.group,
        message.dedup_key,
        message.run_id,
        now,
        later(now, message.delay_ms),
    ])?;
    if let Some(key) = dedup_key {
        let mut remember = conn.prepare_cached(
            "INSERT INTO dedup (queue, dedup_key, message_id, run_id, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (queue, dedup_key) DO UPDATE SET
                 message_id = excluded.message_id, run_id = excluded.run_id, expires_at = excluded.expires_at",
        )?;
        remember.execute(params![
            message.queue,
            key,
            message_id,
            message.run_id,
            later(now, dedup_window_ms)
        ])?;
    }
    Ok(EnqueueOutcome::Inserted { message_id })
}

/// Forgets dedup keys whose window has passed, so the table stays as small as
/// the keys seen within the windows. Indexed by expiry: O(log n) when none expired.
fn purge_expired_dedup(conn: &Connection, now: EpochMillis) -> DbResult<()> {
    conn.prepare_cached("DELETE FROM dedup WHERE expires_at <= ?1")?
        .execute([now])?;
    Ok(())
}

/// Messages of a queue in enqueue order.
pub(crate) fn list_messages(
    conn: &Connection,
    queue: &str,
    limit: usize,
) -> DbResult<Vec<MessageInfo>> {
    load_queue(conn, queue)?;
    let mut select = conn.prepare_cached(
        "SELECT id, queue, body, grp, run_id, receive_count, enqueued_at, visible_at, leased_by,
                last_error, source_queue
         FROM messages WHERE queue = ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = select.query_map(params![queue, sql_limit(limit)], |row| {
        Ok((
            MessageInfo {
                message_id: row.get(0)?,
                queue: row.get(1)?,
                body: serde_json::Value::Null,
                group: row.get(3)?,
                run_id: row.get(4)?,
                receive_count: to_u32(row.get(5)?),
                enqueued_at: row.get(6)?,
                visible_at: row.get(7)?,
                leased_by: row.get(8)?,
                last_error: row.get(9)?,
                source_queue: row.get(10)?,
            },
            row.get::<_, String>(2)?,
        ))
    })?;
    let mut messages = Vec::new();
    for row in rows {
        let (mut info, body) = row?;
        info.body = parse_json(&body)?;
        messages.push(info);
    }
    Ok(messages)
}

/// Counts by state. Each count is a scan of a covering index, never of the table.
pub(crate) fn queue_stats(
    conn: &Connection,
    now: EpochMillis,
    queue: &str,
) -> DbResult<QueueStats> {
    load_queue(conn, queue)?;
    let count = |sql: &str| -> DbResult<i64> {
        Ok(conn
            .prepare_cached(sql)?
            .query_row(params![queue, now], |row| row.get(0))?)
    };
    let visible = count("SELECT count(*) FROM messages WHERE queue = ?1 AND visible_at <= ?2")?;
    let hidden = count("SELECT count(*) FROM messages WHERE queue = ?1 AND visible_at > ?2")?;
    let in_flight =
        count("SELECT count(*) FROM messages WHERE queue = ?1 AND visible_at > ?2 AND leased_by IS NOT NULL")?;
    Ok(QueueStats {
        visible: to_u64(visible),
        delayed: to_u64(hidden - in_flight),
        in_flight: to_u64(in_flight),
    })
}

/// The earliest future `visible_at` of the queue: one index seek.
pub(crate) fn next_wakeup(
    conn: &Connection,
    now: EpochMillis,
    queue: &str,
) -> DbResult<Option<EpochMillis>> {
    load_queue(conn, queue)?;
    let mut select = conn.prepare_cached(
        "SELECT min(visible_at) FROM messages WHERE queue = ?1 AND visible_at > ?2",
    )?;
    Ok(select.query_row(params![queue, now], |row| row.get(0))?)
}

/// A listing limit for SQL: 0 means unlimited (`LIMIT -1`).
pub(crate) fn sql_limit(limit: usize) -> i64 {
    if limit == 0 {
        -1
    } else {
        to_sql_int(limit as u64)
    }
}
