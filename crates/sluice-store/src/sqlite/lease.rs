//! Leasing messages and settling deliveries: lease, extend, ack, fail.
//!
//! # How a lease picks messages
//!
//! Candidates are read from the `messages_deliverable (queue, visible_at, seq)`
//! index: messages whose `visible_at` has passed, longest-deliverable first and
//! in enqueue order among equals. Leased (in-flight) and delayed messages are
//! outside that range, so they cost nothing. A grouped candidate is taken only
//! if it is its group's head, the group's lowest `seq` still on the queue (one
//! seek in `messages_group` per group and lease); the other members of a group
//! are then skipped without touching the database. All of this happens inside the
//! caller's `BEGIN IMMEDIATE` transaction, which is what makes the
//! concurrency limit and the group order hold between competing workers.
//!
//! # Fencing
//!
//! A receipt carries the message's lifetime delivery number (`deliveries`),
//! which only ever grows. A receipt is current while the stored number is the
//! same and the delivery is still open (`leased_by` set): failing or
//! dead-lettering the message closes it.

use super::dead_letters::move_to_dead_letter;
use super::error::{lease_lost, DbResult};
use super::queues::load_queue;
use super::values::{later, parse_json};
use crate::{FailOutcome, Lease, QueueDef, Receipt};
use rusqlite::{params, Connection, OptionalExtension};
use sluice_core::time::EpochMillis;
use std::collections::HashMap;

/// Leases up to `max` messages of `queue`, dead-lettering exhausted ones met on the way.
pub(crate) fn lease(
    conn: &Connection,
    now: EpochMillis,
    queue: &str,
    worker: &str,
    max: usize,
) -> DbResult<Vec<Lease>> {
    let def = load_queue(conn, queue)?;
    let slots = match def.concurrency {
        Some(limit) => (limit as usize)
            .saturating_sub(count_in_flight(conn, now, queue)?)
            .min(max),
        None => max,
    };
    let mut leases = Vec::with_capacity(slots.min(1024));
    while leases.len() < slots {
        let picked = pick_candidates(conn, now, &def, slots - leases.len())?;
        if let Some(dead_letter_queue) = &def.dead_letter_queue {
            for &seq in &picked.exhausted {
                move_to_dead_letter(conn, now, seq, &def.name, dead_letter_queue)?;
            }
        }
        for &seq in &picked.deliverable {
            leases.push(lease_one(conn, now, &def, worker, seq)?);
        }
        // Dead-lettering a group's head unblocks the group: look again. Each
        // round removes at least one message from the queue, so this ends.
        if picked.exhausted.is_empty() {
            break;
        }
    }
    Ok(leases)
}

/// The messages one scan decided about, by `seq`.
#[derive(Default)]
struct Picked {
    deliverable: Vec<i64>,
    /// Deliverable but already received `max_receive_count` times.
    exhausted: Vec<i64>,
}

fn pick_candidates(
    conn: &Connection,
    now: EpochMillis,
    def: &QueueDef,
    wanted: usize,
) -> DbResult<Picked> {
    let mut scan = conn.prepare_cached(
        "SELECT seq, grp, receive_count FROM messages
         WHERE queue = ?1 AND visible_at <= ?2 ORDER BY visible_at, seq",
    )?;
    let mut rows = scan.query(params![def.name, now])?;
    // Each group's head (lowest seq on the queue), looked up once per group.
    // Candidates arrive in visible_at order, so a head may come after its
    // followers (an expired lease, a backoff); comparing with the head's seq
    // is right in any order.
    let mut group_heads: HashMap<String, i64> = HashMap::new();
    let mut picked = Picked::default();
    let can_dead_letter = def.dead_letter_queue.is_some();
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let group: Option<String> = row.get(1)?;
        let receive_count: i64 = row.get(2)?;
        if let Some(group) = group {
            let head = match group_heads.get(&group) {
                Some(head) => *head,
                None => {
                    let head = group_head(conn, &def.name, &group)?;
                    group_heads.insert(group, head);
                    head
                }
            };
            if head != seq {
                continue;
            }
        }
        if can_dead_letter && receive_count >= i64::from(def.max_receive_count) {
            picked.exhausted.push(seq);
        } else {
            picked.deliverable.push(seq);
            if picked.deliverable.len() == wanted {
                break;
            }
        }
    }
    Ok(picked)
}

/// The lowest seq of the group on the queue: one seek in `messages_group`.
fn group_head(conn: &Connection, queue: &str, group: &str) -> DbResult<i64> {
    let mut probe =
        conn.prepare_cached("SELECT min(seq) FROM messages WHERE queue = ?1 AND grp = ?2")?;
    let head: Option<i64> = probe.query_row(params![queue, group], |row| row.get(0))?;
    Ok(head.unwrap_or(i64::MIN))
}

fn count_in_flight(conn: &Connection, now: EpochMillis, queue: &str) -> DbResult<usize> {
    let mut count = conn.prepare_cached(
        "SELECT count(*) FROM messages WHERE queue = ?1 AND leased_by IS NOT NULL AND visible_at > ?2",
    )?;
    let in_flight: i64 = count.query_row(params![queue, now], |row| row.get(0))?;
    Ok(usize::try_from(in_flight).unwrap_or(0))
}

fn lease_one(
    conn: &Connection,
    now: EpochMillis,
    def: &QueueDef,
    worker: &str,
    seq: i64,
) -> DbResult<Lease> {
    let leased_until = later(now, def.visibility_timeout_ms);
    let mut update = conn.prepare_cached(
        "UPDATE messages
         SET leased_by = ?2, receive_count = receive_count + 1, deliveries = deliveries + 1, visible_at = ?3
         WHERE seq = ?1
         RETURNING id, deliveries, body, grp, run_id, enqueued_at, last_error",
    )?;
    let (message_id, deliveries, body, group, run_id, enqueued_at, last_error) =
        update.query_row(params![seq, worker, leased_until], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
            ))
        })?;
    Ok(Lease {
        receipt: Receipt {
            message_id,
            receive_count: super::values::to_u32(deliveries),
        },
        queue: def.name.clone(),
        body: parse_json(&body)?,
        group,
        run_id,
        enqueued_at,
        leased_until,
        last_error,
    })
}

/// The open delivery a receipt names.
struct Delivery {
    seq: i64,
    queue: String,
    receive_count: i64,
}

fn current_delivery(conn: &Connection, receipt: &Receipt) -> DbResult<Delivery> {
    let mut find = conn.prepare_cached(
        "SELECT seq, queue, receive_count FROM messages
         WHERE id = ?1 AND deliveries = ?2 AND leased_by IS NOT NULL",
    )?;
    find.query_row(params![receipt.message_id, receipt.receive_count], |row| {
        Ok(Delivery {
            seq: row.get(0)?,
            queue: row.get(1)?,
            receive_count: row.get(2)?,
        })
    })
    .optional()?
    .ok_or_else(|| lease_lost(&receipt.message_id))
}

/// Hides the message until `now + extend_ms`.
pub(crate) fn extend_lease(
    conn: &Connection,
    now: EpochMillis,
    receipt: &Receipt,
    extend_ms: u64,
) -> DbResult<EpochMillis> {
    let delivery = current_delivery(conn, receipt)?;
    let until = later(now, extend_ms);
    conn.prepare_cached("UPDATE messages SET visible_at = ?2 WHERE seq = ?1")?
        .execute(params![delivery.seq, until])?;
    Ok(until)
}

/// Deletes the messages; all or nothing.
pub(crate) fn ack(conn: &Connection, receipts: &[Receipt]) -> DbResult<()> {
    let mut delete = conn.prepare_cached(
        "DELETE FROM messages WHERE id = ?1 AND deliveries = ?2 AND leased_by IS NOT NULL",
    )?;
    for receipt in receipts {
        if delete.execute(params![receipt.message_id, receipt.receive_count])? == 0 {
            // Returning the error rolls back the deletions already made.
            return Err(lease_lost(&receipt.message_id));
        }
    }
    Ok(())
}

/// Schedules a retry, or dead-letters the message on its last allowed delivery.
pub(crate) fn fail(
    conn: &Connection,
    now: EpochMillis,
    receipt: &Receipt,
    error: &str,
    retry_delay_ms: u64,
) -> DbResult<FailOutcome> {
    let delivery = current_delivery(conn, receipt)?;
    let def = load_queue(conn, &delivery.queue)?;
    if let Some(dead_letter_queue) = def.dead_letter_queue.as_deref() {
        if delivery.receive_count >= i64::from(def.max_receive_count) {
            conn.prepare_cached("UPDATE messages SET last_error = ?2 WHERE seq = ?1")?
                .execute(params![delivery.seq, error])?;
            move_to_dead_letter(conn, now, delivery.seq, &def.name, dead_letter_queue)?;
            return Ok(FailOutcome::DeadLettered {
                queue: dead_letter_queue.to_string(),
            });
        }
    }
    let visible_at = later(now, retry_delay_ms);
    conn.prepare_cached(
        "UPDATE messages SET visible_at = ?2, leased_by = NULL, last_error = ?3 WHERE seq = ?1",
    )?
    .execute(params![delivery.seq, visible_at, error])?;
    Ok(FailOutcome::Retrying { visible_at })
}
