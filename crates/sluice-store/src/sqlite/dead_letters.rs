//! Moving messages to a dead-letter queue and redriving them back.
//!
//! A dead-lettered message keeps its row: id, body, group, run, `seq` and its
//! lifetime delivery number (so older receipts stay stale) are unchanged; only
//! its queue changes, and it remembers the queue it came from.
//!
//! A redrive gives each message a fresh `seq` (in the order they had), which
//! puts it at the back of its source queue. Keeping the old `seq` would make a
//! redriven grouped message "earlier" than group members that may be in flight
//! right now, and two members of one group would be delivered at once.

use super::error::DbResult;
use super::queues::load_queue;
use rusqlite::{params, Connection};
use sluice_core::time::EpochMillis;

/// Moves the message `seq` of `from_queue` to `dead_letter_queue`, visible now
/// with a fresh receive count. The delivery that exhausted it is closed.
pub(crate) fn move_to_dead_letter(
    conn: &Connection,
    now: EpochMillis,
    seq: i64,
    from_queue: &str,
    dead_letter_queue: &str,
) -> DbResult<()> {
    let mut update = conn.prepare_cached(
        "UPDATE messages
         SET queue = ?2, source_queue = ?3, receive_count = 0, visible_at = ?4, leased_by = NULL
         WHERE seq = ?1
         RETURNING id",
    )?;
    let message_id: String = update
        .query_row(params![seq, dead_letter_queue, from_queue, now], |row| {
            row.get(0)
        })?;
    tracing::info!(
        message_id,
        from_queue,
        dead_letter_queue,
        "message dead-lettered"
    );
    Ok(())
}

/// Moves up to `max` messages of a dead-letter queue back to their source
/// queues, oldest first. Messages currently leased from the dead-letter queue,
/// messages that never came from another queue, and messages whose source
/// queue is no longer defined stay where they are.
pub(crate) fn redrive(
    conn: &Connection,
    now: EpochMillis,
    dead_letter_queue: &str,
    max: usize,
) -> DbResult<u64> {
    load_queue(conn, dead_letter_queue)?;
    if max == 0 {
        return Ok(0);
    }
    let mut select = conn.prepare_cached(
        "SELECT seq FROM messages
         WHERE queue = ?1
           AND source_queue IN (SELECT name FROM queues)
           AND NOT (leased_by IS NOT NULL AND visible_at > ?2)
         ORDER BY seq LIMIT ?3",
    )?;
    let limit = i64::try_from(max).unwrap_or(i64::MAX);
    let old_seqs = select
        .query_map(params![dead_letter_queue, now, limit], |row| {
            row.get::<_, i64>(0)
        })?
        .collect::<Result<Vec<i64>, _>>()?;
    let Some(&first) = old_seqs.first() else {
        return Ok(0);
    };
    // The AUTOINCREMENT high-water mark: every seq ever used is at or below it.
    let mut next_seq: i64 = conn
        .prepare_cached(
            "SELECT coalesce(max(seq), ?1) FROM sqlite_sequence WHERE name = 'messages'",
        )?
        .query_row([first], |row| row.get(0))?;
    let mut move_back = conn.prepare_cached(
        "UPDATE messages
         SET seq = ?2, queue = source_queue, source_queue = NULL, receive_count = 0, visible_at = ?3,
             leased_by = NULL
         WHERE seq = ?1
         RETURNING run_id",
    )?;
    // The run a redriven message executes goes back to `queued`: its failed
    // steps run again, its succeeded steps keep their results.
    let mut requeue_run =
        conn.prepare_cached("UPDATE runs SET status = 'queued', finished_at = NULL WHERE id = ?1")?;
    for old_seq in &old_seqs {
        next_seq += 1;
        let run_id: Option<String> =
            move_back.query_row(params![old_seq, next_seq, now], |row| row.get(0))?;
        if let Some(run_id) = run_id {
            requeue_run.execute([run_id])?;
        }
    }
    // Raise the high-water mark so the next enqueue sorts after the redriven messages.
    conn.prepare_cached("UPDATE sqlite_sequence SET seq = ?1 WHERE name = 'messages'")?
        .execute([next_seq])?;
    Ok(old_seqs.len() as u64)
}
