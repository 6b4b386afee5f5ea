//! Checks of plain queue behaviour: enqueue, lease, ack, delays, visibility
//! timeouts, heartbeats, fencing, and the inspection methods.

use super::support::*;
use super::Harness;
use crate::NewMessage;
use serde_json::json;
use std::collections::HashSet;

/// Enqueued messages are leased once with their body and a first-delivery
/// receipt, stay hidden while leased, and disappear when acked.
pub async fn enqueue_lease_ack_round_trip(h: Harness) {
    define(&h, queue("jobs")).await;
    let ids = enqueue_numbered(&h, "jobs", 3).await;
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        3,
        "message ids must be unique"
    );
    let now = h.now();
    let leases = lease(&h, "jobs", 10).await;
    assert_eq!(
        numbers(&leases),
        [1, 2, 3],
        "lease must return every deliverable message, oldest first"
    );
    for (lease, id) in leases.iter().zip(&ids) {
        assert_eq!(
            &lease.receipt.message_id, id,
            "lease must carry the enqueued message's id"
        );
        assert_eq!(
            lease.receipt.receive_count, 1,
            "first delivery has receive count 1"
        );
        assert_eq!(lease.queue, "jobs");
        assert_eq!(lease.enqueued_at, now);
        assert_eq!(
            lease.leased_until,
            now + VISIBILITY_MS as i64,
            "lease lasts the visibility timeout"
        );
        assert_eq!(lease.last_error, None);
    }
    assert!(
        lease(&h, "jobs", 10).await.is_empty(),
        "leased messages must not be delivered twice"
    );
    ack_all(&h, &leases).await;
    assert!(
        h.store.list_messages("jobs", 0).await.unwrap().is_empty(),
        "acked messages must be deleted"
    );
    h.advance(VISIBILITY_MS as i64 * 2);
    assert!(
        lease(&h, "jobs", 10).await.is_empty(),
        "acked messages must never come back"
    );
    assert_lease_lost(
        h.store.ack(&receipts(&leases)).await,
        "acking an acked message",
    );
}

/// `max` caps a lease, and successive leases continue in enqueue order.
pub async fn lease_returns_oldest_first(h: Harness) {
    define(&h, queue("jobs")).await;
    enqueue_numbered(&h, "jobs", 5).await;
    h.advance(1);
    enqueue(&h, message("jobs", json!({ "n": 6 }))).await;
    assert_eq!(
        numbers(&lease(&h, "jobs", 2).await),
        [1, 2],
        "lease must respect max and take the oldest"
    );
    assert_eq!(
        numbers(&lease(&h, "jobs", 10).await),
        [3, 4, 5, 6],
        "the rest follow in enqueue order"
    );
    assert!(
        lease(&h, "jobs", 0).await.is_empty(),
        "max 0 leases nothing"
    );
}

/// A delayed message is invisible until `now + delay_ms`.
pub async fn delayed_message_waits_for_its_delay(h: Harness) {
    define(&h, queue("jobs")).await;
    enqueue(
        &h,
        NewMessage {
            delay_ms: 5_000,
            ..message("jobs", json!({ "n": 1 }))
        },
    )
    .await;
    assert!(
        lease(&h, "jobs", 10).await.is_empty(),
        "a delayed message must not be delivered early"
    );
    h.advance(4_999);
    assert!(
        lease(&h, "jobs", 10).await.is_empty(),
        "a delayed message must not be delivered 1 ms early"
    );
    h.advance(1);
    assert_eq!(
        numbers(&lease(&h, "jobs", 10).await),
        [1],
        "a delayed message is delivered once its delay passed"
    );
}

/// A lease that is neither acked nor failed expires after the visibility
/// timeout and the same message is delivered again (at-least-once).
pub async fn expired_lease_makes_message_reappear(h: Harness) {
    define(&h, queue("jobs")).await;
    let id = enqueue(&h, message("jobs", json!({ "n": 1 }))).await;
    let first = lease(&h, "jobs", 10).await;
    h.advance(VISIBILITY_MS as i64 - 1);
    assert!(
        lease(&h, "jobs", 10).await.is_empty(),
        "a leased message must stay hidden until its lease expires"
    );
    h.advance(1);
    let second = lease(&h, "jobs", 10).await;
    assert_eq!(
        second.len(),
        1,
        "an expired lease must make the message deliverable again"
    );
    assert_eq!(second[0].receipt.message_id, id);
    assert!(
        second[0].receipt.receive_count > first[0].receipt.receive_count,
        "a redelivery must carry a newer receipt: {:?} then {:?}",
        first[0].receipt,
        second[0].receipt
    );
}

/// A heartbeat pushes the lease's expiry forward.
pub async fn extend_lease_keeps_message_hidden(h: Harness) {
    define(&h, queue("jobs")).await;
    enqueue(&h, message("jobs", json!({ "n": 1 }))).await;
    let leases = lease(&h, "jobs", 1).await;
    h.advance(VISIBILITY_MS as i64 - 1_000);
    let until = h
        .store
        .extend_lease(&leases[0].receipt, 10_000)
        .await
        .expect("extending a current lease");
    assert_eq!(
        until,
        h.now() + 10_000,
        "extend_lease returns now + extend_ms"
    );
    h.advance(2_000);
    assert!(
        lease(&h, "jobs", 10).await.is_empty(),
        "an extended lease must outlive the original timeout"
    );
    h.advance(8_000);
    assert_eq!(
        lease(&h, "jobs", 10).await.len(),
        1,
        "an extended lease still expires at its new time"
    );
}

/// Once a message has been delivered again, the older receipt can neither
/// ack, fail nor extend it.
pub async fn stale_receipt_is_refused(h: Harness) {
    define(&h, queue("jobs")).await;
    enqueue(&h, message("jobs", json!({ "n": 1 }))).await;
    let old = lease(&h, "jobs", 1).await.remove(0).receipt;
    h.advance(VISIBILITY_MS as i64);
    let new = lease(&h, "jobs", 1).await.remove(0).receipt;
    assert_lease_lost(
        h.store.ack(std::slice::from_ref(&old)).await,
        "ack with a stale receipt",
    );
    assert_lease_lost(
        h.store.fail(&old, "late", 0).await,
        "fail with a stale receipt",
    );
    assert_lease_lost(
        h.store.extend_lease(&old, 1_000).await,
        "extend with a stale receipt",
    );
    h.store
        .ack(std::slice::from_ref(&new))
        .await
        .expect("the current receipt must still work after stale attempts");
    assert_lease_lost(h.store.ack(&[new]).await, "acking twice");
}

/// One stale receipt makes the whole ack fail and nothing is deleted.
pub async fn ack_is_all_or_nothing(h: Harness) {
    define(&h, queue("jobs")).await;
    enqueue_numbered(&h, "jobs", 2).await;
    let leases = lease(&h, "jobs", 2).await;
    let mut stale = leases[1].receipt.clone();
    stale.receive_count += 7;
    assert_lease_lost(
        h.store.ack(&[leases[0].receipt.clone(), stale]).await,
        "ack with one stale receipt",
    );
    assert_eq!(
        h.store.list_messages("jobs", 0).await.unwrap().len(),
        2,
        "a failed ack must delete nothing"
    );
    ack_all(&h, &leases).await;
}
