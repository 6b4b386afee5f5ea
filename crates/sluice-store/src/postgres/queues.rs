//! Queue definitions, enqueueing (with deduplication), and read-only views of
//! a queue's messages.
//!
//! Definitions are read on every call rather than cached, because other
//! processes may redefine a queue; a primary-key lookup is cheap.
//!
//! Deduplication must hold between processes enqueueing at the same moment,
//! so a key is claimed by an `INSERT ... ON CONFLICT DO UPDATE ... WHERE
//! expired` on the `dedup` table before the message is inserted: of two
//! concurrent claimers one inserts and the other, after waiting on the row
//! lock, sees the live entry and returns the first message as a duplicate.

use super::error::{conflict, not_found, DbResult};
use super::sql::{self, json_text, later, parse_json, to_sql_int, to_u32, to_u64, Tx};
use crate::{Enqueued, MessageInfo, NewMessage, QueueDef, QueueStats};
use sluice_core::id::new_id;
use sluice_core::time::EpochMillis;
use std::collections::HashMap;

/// Creates or replaces the definitions, then checks that every named
/// dead-letter queue exists (so a definition may name one defined later in
/// the same call).
pub(crate) async fn define_queues(tx: &Tx<'_>, defs: &[QueueDef]) -> DbResult<()> {
    for def in defs {
        validate(def)?;
        sql::execute(
            tx,
            "INSERT INTO queues (name, visibility_timeout_ms, max_receive_count, dead_letter_queue,
                                 concurrency, dedup_window_ms, backoff)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (name) DO UPDATE SET
                 visibility_timeout_ms = excluded.visibility_timeout_ms,
                 max_receive_count = excluded.max_receive_count,
                 dead_letter_queue = excluded.dead_letter_queue,
                 concurrency = excluded.concurrency,
                 dedup_window_ms = excluded.dedup_window_ms,
                 backoff = excluded.backoff",
            &[
                &def.name,
                &to_sql_int(def.visibility_timeout_ms),
                &i64::from(def.max_receive_count),
                &def.dead_letter_queue,
                &def.concurrency.map(i64::from),
                &to_sql_int(def.dedup_window_ms),
                &serde_json::to_string(&def.backoff)?,
            ],
        )
        .await?;
    }
    for def in defs {
        if let Some(dlq) = &def.dead_letter_queue {
            if find_queue(tx, dlq).await?.is_none() {
                return Err(not_found("dead-letter queue", dlq));
            }
        }
    }
    Ok(())
}

fn validate(def: &QueueDef) -> DbResult<()> {
    let name = &def.name;
    if name.is_empty() {
        return Err(conflict("a queue name cannot be empty"));
    }
    if def.visibility_timeout_ms == 0 {
        return Err(conflict(format!(
            "queue `{name}`: visibility_timeout_ms must be at least 1"
        )));
    }
    if def.max_receive_count == 0 {
        return Err(conflict(format!(
            "queue `{name}`: max_receive_count must be at least 1"
        )));
    }
    if def.dead_letter_queue.as_deref() == Some(name.as_str()) {
        return Err(conflict(format!(
            "queue `{name}` cannot be its own dead-letter queue"
        )));
    }
    if def.concurrency == Some(0) {
        return Err(conflict(format!(
            "queue `{name}`: concurrency must be at least 1 (or unlimited)"
        )));
    }
    Ok(())
}

/// The definition of `name`, or `None`.
pub(crate) async fn find_queue(tx: &Tx<'_>, name: &str) -> DbResult<Option<QueueDef>> {
    let row = sql::query_opt(
        tx,
        "SELECT name, visibility_timeout_ms, max_receive_count, dead_letter_queue, concurrency,
                dedup_window_ms, backoff
         FROM queues WHERE name = $1",
        &[&name],
    )
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(QueueDef {
        name: row.get(0),
        visibility_timeout_ms: to_u64(row.get(1)),
        max_receive_count: to_u32(row.get(2)),
        dead_letter_queue: row.get(3),
        concurrency: row.get::<_, Option<i64>>(4).map(to_u32),
        dedup_window_ms: to_u64(row.get(5)),
        backoff: serde_json::from_str(row.get(6))?,
    }))
}

/// The definition of `name`, or [`crate::StoreError::NotFound`].
pub(crate) async fn load_queue(tx: &Tx<'_>, name: &str) -> DbResult<QueueDef> {
    find_queue(tx, name)
        .await?
        .ok_or_else(|| not_found("queue", name))
}

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

/// Enqueues `messages` in order. Runs of messages without a live dedup key
/// go in one multi-row `INSERT`; keyed messages are claimed one at a time.
pub(crate) async fn enqueue(
    tx: &Tx<'_>,
    now: EpochMillis,
    messages: &[NewMessage],
) -> DbResult<Vec<Enqueued>> {
    if messages.iter().any(|m| m.dedup_key.is_some()) {
        purge_expired_dedup(tx, now).await?;
    }
    let mut windows: HashMap<&str, u64> = HashMap::new();
    let mut results = Vec::with_capacity(messages.len());
    let mut pending: Vec<(&NewMessage, String)> = Vec::new();
    for message in messages {
        let window = match windows.get(message.queue.as_str()) {
            Some(window) => *window,
            None => {
                let window = load_queue(tx, &message.queue).await?.dedup_window_ms;
                windows.insert(&message.queue, window);
                window
            }
        };
        if message.dedup_key.is_none() || window == 0 {
            let message_id = new_id("msg");
            results.push(Enqueued {
                message_id: message_id.clone(),
                duplicate: false,
            });
            pending.push((message, message_id));
            continue;
        }
        // Keep enqueue order: everything before this message goes in first.
        insert_messages(tx, now, &pending).await?;
        pending.clear();
        results.push(match enqueue_keyed(tx, now, message, window).await? {
            EnqueueOutcome::Inserted { message_id } => Enqueued {
                message_id,
                duplicate: false,
            },
            EnqueueOutcome::Duplicate { message_id, .. } => Enqueued {
                message_id,
                duplicate: true,
            },
        });
    }
    insert_messages(tx, now, &pending).await?;
    Ok(results)
}

/// Enqueues one message after checking its queue exists (for submit and rerun).
pub(crate) async fn enqueue_checked(
    tx: &Tx<'_>,
    now: EpochMillis,
    message: &NewMessage,
) -> DbResult<EnqueueOutcome> {
    let window = load_queue(tx, &message.queue).await?.dedup_window_ms;
    if message.dedup_key.is_some() && window > 0 {
        purge_expired_dedup(tx, now).await?;
        return enqueue_keyed(tx, now, message, window).await;
    }
    let message_id = new_id("msg");
    insert_messages(tx, now, &[(message, message_id.clone())]).await?;
    Ok(EnqueueOutcome::Inserted { message_id })
}

/// Claims the message's dedup key, then inserts it; or returns the message
/// that holds the key within its window.
async fn enqueue_keyed(
    tx: &Tx<'_>,
    now: EpochMillis,
    message: &NewMessage,
    window: u64,
) -> DbResult<EnqueueOutcome> {
    let key = message.dedup_key.as_deref().unwrap_or_default();
    let message_id = new_id("msg");
    let claimed = sql::query_opt(
        tx,
        "INSERT INTO dedup (queue, dedup_key, message_id, run_id, expires_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (queue, dedup_key) DO UPDATE SET
             message_id = excluded.message_id, run_id = excluded.run_id, expires_at = excluded.expires_at
         WHERE dedup.expires_at <= $6
         RETURNING message_id",
        &[&message.queue, &key, &message_id, &message.run_id, &later(now, window), &now],
    )
    .await?;
    if claimed.is_none() {
        let row = sql::query_one(
            tx,
            "SELECT message_id, run_id FROM dedup WHERE queue = $1 AND dedup_key = $2",
            &[&message.queue, &key],
        )
        .await?;
        return Ok(EnqueueOutcome::Duplicate {
            message_id: row.get(0),
            run_id: row.get(1),
        });
    }
    insert_messages(tx, now, &[(message, message_id.clone())]).await?;
    Ok(EnqueueOutcome::Inserted { message_id })
}

/// Inserts messages with the given ids in one statement; `unnest ... WITH
/// ORDINALITY` yields them in order, so their `seq`s follow the batch order.
async fn insert_messages(
    tx: &Tx<'_>,
    now: EpochMillis,
    messages: &[(&NewMessage, String)],
) -> DbResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(messages.len());
    let mut queues = Vec::with_capacity(messages.len());
    let mut bodies = Vec::with_capacity(messages.len());
    let mut groups = Vec::with_capacity(messages.len());
    let mut keys = Vec::with_capacity(messages.len());
    let mut runs = Vec::with_capacity(messages.len());
    let mut visible = Vec::with_capacity(messages.len());
    for (message, id) in messages {
        ids.push(id.as_str());
        queues.push(message.queue.as_str());
        bodies.push(json_text(&message.body)?);
        groups.push(message.group.as_deref());
        keys.push(message.dedup_key.as_deref());
        runs.push(message.run_id.as_deref());
        visible.push(later(now, message.delay_ms));
    }
    sql::execute(
        tx,
        "INSERT INTO messages (id, queue, body, grp, dedup_key, run_id, enqueued_at, visible_at)
         SELECT id, queue, body, grp, dedup_key, run_id, $8, visible_at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
              WITH ORDINALITY AS m (id, queue, body, grp, dedup_key, run_id, visible_at, ord)
         ORDER BY ord",
        &[&ids, &queues, &bodies, &groups, &keys, &runs, &visible, &now],
    )
    .await?;
    Ok(())
}

/// Forgets dedup keys whose window has passed, so the table stays as small as
/// the keys seen within the windows.
async fn purge_expired_dedup(tx: &Tx<'_>, now: EpochMillis) -> DbResult<()> {
    sql::execute(tx, "DELETE FROM dedup WHERE expires_at <= $1", &[&now]).await?;
    Ok(())
}

/// Messages of a queue in enqueue order.
pub(crate) async fn list_messages(
    tx: &Tx<'_>,
    queue: &str,
    limit: usize,
) -> DbResult<Vec<MessageInfo>> {
    load_queue(tx, queue).await?;
    let rows = sql::query(
        tx,
        "SELECT id, queue, body, grp, run_id, receive_count, enqueued_at, visible_at, leased_by,
                last_error, source_queue
         FROM messages WHERE queue = $1 ORDER BY seq LIMIT $2",
        &[&queue, &sql::sql_limit(limit)],
    )
    .await?;
    rows.iter()
        .map(|row| {
            Ok(MessageInfo {
                message_id: row.get(0),
                queue: row.get(1),
                body: parse_json(row.get(2))?,
                group: row.get(3),
                run_id: row.get(4),
                receive_count: to_u32(row.get(5)),
                enqueued_at: row.get(6),
                visible_at: row.get(7),
                leased_by: row.get(8),
                last_error: row.get(9),
                source_queue: row.get(10),
            })
        })
        .collect()
}

/// Counts by state, in one pass over the queue's index range.
pub(crate) async fn queue_stats(
    tx: &Tx<'_>,
    now: EpochMillis,
    queue: &str,
) -> DbResult<QueueStats> {
    load_queue(tx, queue).await?;
    let row = sql::query_one(
        tx,
        "SELECT count(*) FILTER (WHERE visible_at <= $2),
                count(*) FILTER (WHERE visible_at > $2 AND leased_by IS NULL),
                count(*) FILTER (WHERE visible_at > $2 AND leased_by IS NOT NULL)
         FROM messages WHERE queue = $1",
        &[&queue, &now],
    )
    .await?;
    Ok(QueueStats {
        visible: to_u64(row.get(0)),
        delayed: to_u64(row.get(1)),
        in_flight: to_u64(row.get(2)),
    })
}

/// The earliest future `visible_at` of the queue: one index seek.
pub(crate) async fn next_wakeup(
    tx: &Tx<'_>,
    now: EpochMillis,
    queue: &str,
) -> DbResult<Option<EpochMillis>> {
    load_queue(tx, queue).await?;
    let row = sql::query_one(
        tx,
        "SELECT min(visible_at) FROM messages WHERE queue = $1 AND visible_at > $2",
        &[&queue, &now],
    )
    .await?;
    Ok(row.get(0))
}
