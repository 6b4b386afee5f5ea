//! Checks of delivery order and admission: concurrency limits, FIFO groups
//! and deduplication.

use super::support::*;
use super::Harness;
use crate::{Enqueued, NewMessage, QueueDef};
use serde_json::json;

/// No more than `concurrency` messages are in flight; acks and lease expiry free slots.
pub async fn concurrency_limit_caps_messages_in_flight(h: Harness) {
    define(
        &h,
        QueueDef {
            concurrency: Some(2),
            ..queue("jobs")
        },
    )
    .await;
    enqueue_numbered(&h, "jobs", 5).await;
    let first = lease(&h, "jobs", 10).await;
    assert_eq!(
        numbers(&first),
        [1, 2],
        "a lease must stop at the concurrency limit"
    );
    assert!(
        lease(&h, "jobs", 10).await.is_empty(),
        "no slot is free while both are in flight"
    );
    ack_all(&h, &first[..1]).await;
    assert_eq!(
        numbers(&lease(&h, "jobs", 10).await),
        [3],
        "an ack frees exactly one slot"
    );
    h.advance(VISIBILITY_MS as i64);
    let after_expiry = lease(&h, "jobs", 10).await;
    assert_eq!(after_expiry.len(), 2, "expired leases free their slots");
    let stats = h.store.queue_stats("jobs").await.unwrap();
    assert_eq!(stats.in_flight, 2, "in flight never exceeds the limit");
}

/// With concurrency 1 the queue delivers one message at a time, in order.
pub async fn concurrency_one_is_strictly_sequential(h: Harness) {
    define(
        &h,
        QueueDef {
            concurrency: Some(1),
            ..queue("serial")
        },
    )
    .await;
    enqueue_numbered(&h, "serial", 4).await;
    for expected in 1..=4 {
        let leases = lease(&h, "serial", 10).await;
        assert_eq!(
            numbers(&leases),
            [expected],
            "concurrency 1 delivers exactly the next message"
        );
        assert!(
            lease(&h, "serial", 10).await.is_empty(),
            "nothing else while message {expected} is in flight"
        );
        ack_all(&h, &leases).await;
    }
    assert!(lease(&h, "serial", 10).await.is_empty());
}

/// Members of a group are delivered one at a time in enqueue order; an
/// in-flight head blocks the group even after its lease expires and is renewed.
pub async fn fifo_group_is_delivered_in_order_one_at_a_time(h: Harness) {
    define(&h, queue("fifo")).await;
    for n in 1..=3 {
        enqueue(&h, grouped("fifo", "g", n)).await;
    }
    let head = lease(&h, "fifo", 10).await;
    assert_eq!(numbers(&head), [1], "only the group's head is deliverable");
    assert!(
        lease(&h, "fifo", 10).await.is_empty(),
        "the group waits while its head is leased"
    );
    h.advance(VISIBILITY_MS as i64);
    let again = lease(&h, "fifo", 10).await;
    assert_eq!(
        numbers(&again),
        [1],
        "an expired head is redelivered before its followers"
    );
    ack_all(&h, &again).await;
    let next = lease(&h, "fifo", 10).await;
    assert_eq!(
        numbers(&next),
        [2],
        "acking the head releases the next member"
    );
    ack_all(&h, &next).await;
    assert_eq!(numbers(&lease(&h, "fifo", 10).await), [3]);
}

/// A failed head in backoff still blocks its group; it is retried first.
pub async fn fifo_group_waits_while_head_is_in_backoff(h: Harness) {
    define(&h, queue("fifo")).await;
    enqueue(&h, grouped("fifo", "g", 1)).await;
    enqueue(&h, grouped("fifo", "g", 2)).await;
    let head = lease(&h, "fifo", 10).await;
    h.store
        .fail(&head[0].receipt, "retry me", 1_000)
        .await
        .unwrap();
    assert!(
        lease(&h, "fifo", 10).await.is_empty(),
        "a follower must not overtake a head in backoff"
    );
    h.advance(1_000);
    let retried = lease(&h, "fifo", 10).await;
    assert_eq!(
        numbers(&retried),
        [1],
        "the head is retried before its followers"
    );
    ack_all(&h, &retried).await;
    assert_eq!(numbers(&lease(&h, "fifo", 10).await), [2]);
}

/// Different groups, and ungrouped messages, do not wait for each other.
pub async fn fifo_groups_proceed_in_parallel(h: Harness) {
    define(&h, queue("fifo")).await;
    h.store
        .enqueue(&[
            grouped("fifo", "a", 1),
            grouped("fifo", "a", 2),
            grouped("fifo", "b", 3),
            grouped("fifo", "b", 4),
            message("fifo", json!({ "n": 5 })),
        ])
        .await
        .unwrap();
    let leases = lease(&h, "fifo", 10).await;
    assert_eq!(
        numbers(&leases),
        [1, 3, 5],
        "each group's head and ungrouped messages are deliverable together"
    );
    ack_all(&h, &leases).await;
    assert_eq!(numbers(&lease(&h, "fifo", 10).await), [2, 4]);
}

/// A dedup key seen within the window returns the first message's id; the
/// first message is not duplicated, even in one batch or after it was acked.
pub async fn dedup_within_window_returns_first_message(h: Harness) {
    define(&h, queue("jobs")).await;
    define(&h, queue("other")).await;
    let keyed = |queue: &str, n: i64| NewMessage {
        dedup_key: Some("k".into()),
        ..message(queue, json!({ "n": n }))
    };
    let first = h
        .store
        .enqueue(&[keyed("jobs", 1), keyed("jobs", 2)])
        .await
        .unwrap();
    assert!(!first[0].duplicate, "the first use of a key enqueues");
    assert_eq!(
        first[1],
        Enqueued {
            message_id: first[0].message_id.clone(),
            duplicate: true
        },
        "a duplicate within one batch returns the first id"
    );
    h.advance(DEDUP_WINDOW_MS as i64 - 1);
    let leases = lease(&h, "jobs", 10).await;
    assert_eq!(numbers(&leases), [1], "duplicates are not enqueued");
    ack_all(&h, &leases).await;
    let again = h.store.enqueue(&[keyed("jobs", 3)]).await.unwrap();
    assert_eq!(
        again[0],
        Enqueued {
            message_id: first[0].message_id.clone(),
            duplicate: true
        },
        "window outlives ack"
    );
    let elsewhere = h.store.enqueue(&[keyed("other", 4)]).await.unwrap();
    assert!(!elsewhere[0].duplicate, "dedup keys are per queue");
    assert!(lease(&h, "jobs", 10).await.is_empty());
}

/// After the window, the same key enqueues a new message.
pub async fn dedup_window_expires(h: Harness) {
    define(&h, queue("jobs")).await;
    let keyed = NewMessage {
        dedup_key: Some("k".into()),
        ..message("jobs", json!({ "n": 1 }))
    };
    let first = h
        .store
        .enqueue(std::slice::from_ref(&keyed))
        .await
        .unwrap()
        .remove(0);
    h.advance(DEDUP_WINDOW_MS as i64);
    let second = h.store.enqueue(&[keyed]).await.unwrap().remove(0);
    assert!(
        !second.duplicate,
        "a key past its window must enqueue again"
    );
    assert_ne!(second.message_id, first.message_id);
    assert_eq!(lease(&h, "jobs", 10).await.len(), 2);
}
