//! Moving messages to a dead-letter queue and redriving them back.
//!
//! As in SQLite, a dead-lettered message keeps its row: id, body, group, run,
//! `seq` and its lifetime delivery number (so older receipts stay stale) are
//! unchanged; only its queue changes, and it remembers the queue it came from.
//!
//! A redrive gives each message a fresh `seq` from `message_seq` (in the order
//! they had), which puts it at the back of its source queue: keeping the old
//! `seq` would make a redriven grouped message "earlier" than members of its
//! group that may be in flight right now. The runs the messages execute go
//! back to `queued` in the same transaction.

use super::error::DbResult;
use super::queues::load_queue;
use super::sql::{self, Tx};
use sluice_core::time::EpochMillis;

/// Moves the messages `seqs` of `from_queue` to `dead_letter_queue`, visible
/// now with a fresh receive count. The deliveries that exhausted them are closed.
pub(crate) async fn move_to_dead_letter(
    tx: &Tx<'_>,
    now: EpochMillis,
    seqs: &[i64],
    from_queue: &str,
    dead_letter_queue: &str,
) -> DbResult<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    let rows = sql::query(
        tx,
        "UPDATE messages
         SET queue = $2, source_queue = $3, receive_count = 0, visible_at = $4, leased_by = NULL
         WHERE seq = ANY($1)
         RETURNING id",
        &[&seqs, &dead_letter_queue, &from_queue, &now],
    )
    .await?;
    for row in &rows {
        let message_id: &str = row.get(0);
        tracing::info!(
            message_id,
            from_queue,
            dead_letter_queue,
            "message dead-lettered"
        );
    }
    Ok(())
}

/// Moves up to `max` messages of a dead-letter queue back to their source
/// queues, oldest first. Messages currently leased from the dead-letter queue
/// (or being moved by a concurrent redrive), messages that never came from
/// another queue, and messages whose source queue is no longer defined stay.
pub(crate) async fn redrive(
    tx: &Tx<'_>,
    now: EpochMillis,
    dead_letter_queue: &str,
    max: usize,
) -> DbResult<u64> {
    load_queue(tx, dead_letter_queue).await?;
    if max == 0 {
        return Ok(0);
    }
    let rows = sql::query(
        tx,
        "SELECT seq FROM messages
         WHERE queue = $1
           AND source_queue IN (SELECT name FROM queues)
           AND NOT (leased_by IS NOT NULL AND visible_at > $2)
         ORDER BY seq LIMIT $3
         FOR UPDATE OF messages SKIP LOCKED",
        &[&dead_letter_queue, &now, &sql::to_sql_int(max as u64)],
    )
    .await?;
    let old_seqs: Vec<i64> = rows.iter().map(|row| row.get(0)).collect();
    if old_seqs.is_empty() {
        return Ok(0);
    }
    // One statement; `WITH ORDINALITY` hands out the new seqs in the old order.
    let moved = sql::query(
        tx,
        "UPDATE messages m
         SET seq = o.new_seq, queue = m.source_queue, source_queue = NULL, receive_count = 0,
             visible_at = $2, leased_by = NULL
         FROM (SELECT old_seq, nextval('message_seq') AS new_seq
               FROM unnest($1::bigint[]) WITH ORDINALITY AS u (old_seq, ord)
               ORDER BY ord) AS o
         WHERE m.seq = o.old_seq
         RETURNING m.run_id",
        &[&old_seqs, &now],
    )
    .await?;
    // The runs go back to `queued`: their failed steps run again, their
    // succeeded steps keep their results.
    let run_ids: Vec<String> = moved.iter().filter_map(|row| row.get(0)).collect();
    if !run_ids.is_empty() {
        sql::execute(
            tx,
            "UPDATE runs SET status = 'queued', finished_at = NULL WHERE id = ANY($1)",
            &[&run_ids],
        )
        .await?;
    }
    Ok(moved.len() as u64)
}
