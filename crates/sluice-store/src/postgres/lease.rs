//! Leasing messages and settling deliveries: lease, extend, ack, fail.
//!
//! # How a lease picks messages
//!
//! One statement reads the candidates from `messages_deliverable (queue,
//! visible_at, seq)`: visible now, longest-deliverable first, then in enqueue
//! order; a grouped candidate only if it is its group's head (no earlier
//! member on the queue) and no member of its group is in flight. It locks them
//! with `FOR UPDATE SKIP LOCKED`, so a worker never waits for rows another
//! worker is taking, and a row another worker leased meanwhile is re-checked
//! against `visible_at` and dropped. A second statement leases the picked rows.
//!
//! The "no member in flight" test is redundant in SQLite, where a group's
//! in-flight member is always its head. Here it guards a race SQLite cannot
//! have: two producers enqueue members of one group in two transactions, and
//! the one with the lower `seq` commits after the other was already leased;
//! that late member must not be delivered alongside it.
//!
//! # Why an advisory lock for limits and groups
//!
//! Row locks protect rows, but the concurrency limit is a fact about a *count*
//! of rows: two leasers that each count 4 in flight under a limit of 5 would
//! each lease one, and `SKIP LOCKED` cannot see that. `SERIALIZABLE` would
//! catch it, but only by aborting one of the two, which under contention means
//! retry storms on exactly the busiest queues. So when the queue has a
//! concurrency limit or holds grouped messages, the lease first takes
//! `pg_advisory_xact_lock(LEASE_LOCK, hashtext(schema.queue))`: leasers of that one queue
//! take turns (each turn is a few index probes), the lock is released by the
//! commit itself, and a crashed worker's lock dies with its session. Counting
//! happens after the lock is held, in a new statement, so under `READ
//! COMMITTED` it sees every lease committed by the previous holder. Queues
//! without a limit or groups skip the lock and lease fully in parallel. A hash
//! collision between two queues only makes them take turns, never wrong.
//!
//! # Fencing
//!
//! As in SQLite, a receipt carries the message's lifetime delivery number
//! (`deliveries`), which only grows; a receipt is current while the number
//! matches and the delivery is open (`leased_by` set).

use super::dead_letters::move_to_dead_letter;
use super::error::{lease_lost, DbResult};
use super::queues::load_queue;
use super::schema::LEASE_LOCK;
use super::sql::{self, later, parse_json, to_u32, Tx};
use crate::{FailOutcome, Lease, QueueDef, Receipt};
use sluice_core::time::EpochMillis;
use std::collections::{HashMap, HashSet};

/// Leases up to `max` messages of `queue`, dead-lettering exhausted ones met on the way.
pub(crate) async fn lease(
    tx: &Tx<'_>,
    now: EpochMillis,
    queue: &str,
    worker: &str,
    max: usize,
) -> DbResult<Vec<Lease>> {
    let def = load_queue(tx, queue).await?;
    if max == 0 {
        return Ok(Vec::new());
    }
    // Takes the queue's lease lock when it has a limit or grouped messages.
    sql::execute(
        tx,
        "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()::text || '.' || $2::text))
         WHERE $3 OR EXISTS (SELECT 1 FROM messages WHERE queue = $2 AND grp IS NOT NULL)",
        &[&LEASE_LOCK, &queue, &def.concurrency.is_some()],
    )
    .await?;
    let slots = match def.concurrency {
        Some(limit) => (limit as usize)
            .saturating_sub(count_in_flight(tx, now, queue).await?)
            .min(max),
        None => max,
    };
    let mut leases = Vec::with_capacity(slots.min(1024));
    while leases.len() < slots {
        let wanted = slots - leases.len();
        let picked = pick_candidates(tx, now, &def, wanted).await?;
        if let Some(dead_letter_queue) = &def.dead_letter_queue {
            move_to_dead_letter(tx, now, &picked.exhausted, &def.name, dead_letter_queue).await?;
        }
        leases.extend(lease_rows(tx, now, &def, worker, &picked.deliverable).await?);
        // Dead-lettering a group's head unblocks the group, and exhausted rows
        // took places in the scan: look again. Each round removes or leases at
        // least one message, so this ends.
        if picked.exhausted.is_empty() {
            break;
        }
    }
    Ok(leases)
}

/// The messages one scan decided about, by `seq`, in delivery order.
struct Picked {
    deliverable: Vec<i64>,
    /// Deliverable but already received `max_receive_count` times.
    exhausted: Vec<i64>,
}

async fn pick_candidates(
    tx: &Tx<'_>,
    now: EpochMillis,
    def: &QueueDef,
    wanted: usize,
) -> DbResult<Picked> {
    let rows = sql::query(
        tx,
        "SELECT m.seq, m.receive_count FROM messages m
         WHERE m.queue = $1 AND m.visible_at <= $2
           AND (m.grp IS NULL OR (
                NOT EXISTS (SELECT 1 FROM messages e
                            WHERE e.queue = m.queue AND e.grp = m.grp AND e.seq < m.seq)
                AND NOT EXISTS (SELECT 1 FROM messages f
                                WHERE f.queue = m.queue AND f.grp = m.grp AND f.seq <> m.seq
                                  AND f.leased_by IS NOT NULL AND f.visible_at > $2)))
         ORDER BY m.visible_at, m.seq
         LIMIT $3
         FOR UPDATE OF m SKIP LOCKED",
        &[&def.name, &now, &sql::to_sql_int(wanted as u64)],
    )
    .await?;
    let can_dead_letter = def.dead_letter_queue.is_some();
    let mut picked = Picked {
        deliverable: Vec::with_capacity(rows.len()),
        exhausted: Vec::new(),
    };
    for row in rows {
        let (seq, receive_count): (i64, i64) = (row.get(0), row.get(1));
        if can_dead_letter && receive_count >= i64::from(def.max_receive_count) {
            picked.exhausted.push(seq);
        } else {
            picked.deliverable.push(seq);
        }
    }
    Ok(picked)
}

async fn count_in_flight(tx: &Tx<'_>, now: EpochMillis, queue: &str) -> DbResult<usize> {
    let row = sql::query_one(
        tx,
        "SELECT count(*) FROM messages WHERE queue = $1 AND leased_by IS NOT NULL AND visible_at > $2",
        &[&queue, &now],
    )
    .await?;
    Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

/// Leases the rows `seqs` (already locked by this transaction), in that order.
async fn lease_rows(
    tx: &Tx<'_>,
    now: EpochMillis,
    def: &QueueDef,
    worker: &str,
    seqs: &[i64],
) -> DbResult<Vec<Lease>> {
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let leased_until = later(now, def.visibility_timeout_ms);
    let rows = sql::query(
        tx,
        "UPDATE messages
         SET leased_by = $2, receive_count = receive_count + 1, deliveries = deliveries + 1, visible_at = $3
         WHERE seq = ANY($1)
         RETURNING seq, id, deliveries, body, grp, run_id, enqueued_at, last_error",
        &[&seqs, &worker, &leased_until],
    )
    .await?;
    // RETURNING has no order: put the leases back in pick order.
    let position: HashMap<i64, usize> = seqs.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let mut leases = Vec::with_capacity(rows.len());
    for row in &rows {
        let seq: i64 = row.get(0);
        let lease = Lease {
            receipt: Receipt {
                message_id: row.get(1),
                receive_count: to_u32(row.get(2)),
            },
            queue: def.name.clone(),
            body: parse_json(row.get(3))?,
            group: row.get(4),
            run_id: row.get(5),
            enqueued_at: row.get(6),
            leased_until,
            last_error: row.get(7),
        };
        leases.push((position.get(&seq).copied().unwrap_or(usize::MAX), lease));
    }
    leases.sort_by_key(|(position, _)| *position);
    Ok(leases.into_iter().map(|(_, lease)| lease).collect())
}

/// The open delivery a receipt names, locked for the rest of the transaction.
struct Delivery {
    seq: i64,
    queue: String,
    receive_count: i64,
}

async fn current_delivery(tx: &Tx<'_>, receipt: &Receipt) -> DbResult<Delivery> {
    let row = sql::query_opt(
        tx,
        "SELECT seq, queue, receive_count FROM messages
         WHERE id = $1 AND deliveries = $2 AND leased_by IS NOT NULL
         FOR UPDATE",
        &[&receipt.message_id, &i64::from(receipt.receive_count)],
    )
    .await?;
    let row = row.ok_or_else(|| lease_lost(&receipt.message_id))?;
    Ok(Delivery {
        seq: row.get(0),
        queue: row.get(1),
        receive_count: row.get(2),
    })
}

/// Hides the message until `now + extend_ms`.
pub(crate) async fn extend_lease(
    tx: &Tx<'_>,
    now: EpochMillis,
    receipt: &Receipt,
    extend_ms: u64,
) -> DbResult<EpochMillis> {
    let until = later(now, extend_ms);
    let updated = sql::execute(
        tx,
        "UPDATE messages SET visible_at = $3 WHERE id = $1 AND deliveries = $2 AND leased_by IS NOT NULL",
        &[&receipt.message_id, &i64::from(receipt.receive_count), &until],
    )
    .await?;
    if updated == 0 {
        return Err(lease_lost(&receipt.message_id));
    }
    Ok(until)
}

/// Deletes the messages; all or nothing.
pub(crate) async fn ack(tx: &Tx<'_>, receipts: &[Receipt]) -> DbResult<()> {
    if receipts.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = receipts.iter().map(|r| r.message_id.as_str()).collect();
    let deliveries: Vec<i64> = receipts
        .iter()
        .map(|r| i64::from(r.receive_count))
        .collect();
    let rows = sql::query(
        tx,
        "DELETE FROM messages m
         USING unnest($1::text[], $2::bigint[]) AS r (id, deliveries)
         WHERE m.id = r.id AND m.deliveries = r.deliveries AND m.leased_by IS NOT NULL
         RETURNING m.id",
        &[&ids, &deliveries],
    )
    .await?;
    if rows.len() == receipts.len() {
        return Ok(());
    }
    // Name the first stale receipt; returning the error rolls back the deletions.
    let deleted: HashSet<String> = rows.iter().map(|row| row.get(0)).collect();
    let mut seen = HashSet::new();
    let stale = receipts
        .iter()
        .find(|r| !deleted.contains(&r.message_id) || !seen.insert(&r.message_id))
        .unwrap_or(&receipts[0]);
    Err(lease_lost(&stale.message_id))
}

/// Schedules a retry, or dead-letters the message on its last allowed delivery.
pub(crate) async fn fail(
    tx: &Tx<'_>,
    now: EpochMillis,
    receipt: &Receipt,
    error: &str,
    retry_delay_ms: u64,
) -> DbResult<FailOutcome> {
    let delivery = current_delivery(tx, receipt).await?;
    let def = load_queue(tx, &delivery.queue).await?;
    if let Some(dead_letter_queue) = def.dead_letter_queue.as_deref() {
        if delivery.receive_count >= i64::from(def.max_receive_count) {
            sql::execute(
                tx,
                "UPDATE messages SET last_error = $2 WHERE seq = $1",
                &[&delivery.seq, &error],
            )
            .await?;
            move_to_dead_letter(tx, now, &[delivery.seq], &def.name, dead_letter_queue).await?;
            return Ok(FailOutcome::DeadLettered {
                queue: dead_letter_queue.to_string(),
            });
        }
    }
    let visible_at = later(now, retry_delay_ms);
    sql::execute(
        tx,
        "UPDATE messages SET visible_at = $2, leased_by = NULL, last_error = $3 WHERE seq = $1",
        &[&delivery.seq, &visible_at, &error],
    )
    .await?;
    Ok(FailOutcome::Retrying { visible_at })
}
