//! Checks of the read-only views of a queue: listing, stats, next wakeup,
//! definitions and NotFound for undefined queues.

use super::support::*;
use super::Harness;
use crate::{NewMessage, QueueStats};
use serde_json::json;

/// `list_messages` shows each message's state, oldest first.
pub async fn list_messages_shows_message_state(h: Harness) {
    define(&h, queue("jobs")).await;
    let now = h.now();
    let first = enqueue(
        &h,
        NewMessage {
            group: Some("g".into()),
            ..message("jobs", json!({ "n": 1 }))
        },
    )
    .await;
    let second = enqueue(
        &h,
        NewMessage {
            delay_ms: 500,
            ..message("jobs", json!({ "n": 2 }))
        },
    )
    .await;
    lease(&h, "jobs", 1).await;
    let listed = h.store.list_messages("jobs", 0).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|m| m.message_id.clone())
            .collect::<Vec<_>>(),
        [first, second]
    );
    assert_eq!(listed[0].body, json!({ "n": 1 }));
    assert_eq!(listed[0].group.as_deref(), Some("g"));
    assert_eq!(listed[0].receive_count, 1);
    assert_eq!(listed[0].leased_by.as_deref(), Some("w"));
    assert_eq!(listed[0].visible_at, now + VISIBILITY_MS as i64);
    assert_eq!(listed[1].receive_count, 0);
    assert_eq!(listed[1].visible_at, now + 500);
    assert_eq!(listed[1].leased_by, None);
    assert_eq!(
        h.store.list_messages("jobs", 1).await.unwrap().len(),
        1,
        "limit caps the listing"
    );
}

/// Stats split messages into visible, delayed and in flight.
pub async fn queue_stats_count_messages_by_state(h: Harness) {
    define(&h, queue("jobs")).await;
    assert_eq!(
        h.store.queue_stats("jobs").await.unwrap(),
        QueueStats::default()
    );
    enqueue_numbered(&h, "jobs", 3).await;
    enqueue(
        &h,
        NewMessage {
            delay_ms: 1_000,
            ..message("jobs", json!({ "n": 4 }))
        },
    )
    .await;
    lease(&h, "jobs", 1).await;
    let stats = h.store.queue_stats("jobs").await.unwrap();
    assert_eq!(
        stats,
        QueueStats {
            visible: 2,
            delayed: 1,
            in_flight: 1
        }
    );
    h.advance(VISIBILITY_MS as i64);
    let stats = h.store.queue_stats("jobs").await.unwrap();
    assert_eq!(
        stats,
        QueueStats {
            visible: 4,
            delayed: 0,
            in_flight: 0
        },
        "expired leases count as visible"
    );
}

/// `next_wakeup` is the earliest future `visible_at`: a delay, a backoff or a lease expiry.
pub async fn next_wakeup_reports_earliest_hidden_message(h: Harness) {
    define(&h, queue("jobs")).await;
    let now = h.now();
    assert_eq!(
        h.store.next_wakeup("jobs").await.unwrap(),
        None,
        "an empty queue has no wakeup"
    );
    enqueue(&h, message("jobs", json!({ "n": 1 }))).await;
    assert_eq!(
        h.store.next_wakeup("jobs").await.unwrap(),
        None,
        "deliverable messages need no wakeup"
    );
    enqueue(
        &h,
        NewMessage {
            delay_ms: 50_000,
            ..message("jobs", json!({ "n": 2 }))
        },
    )
    .await;
    enqueue(
        &h,
        NewMessage {
            delay_ms: 40_000,
            ..message("jobs", json!({ "n": 3 }))
        },
    )
    .await;
    assert_eq!(
        h.store.next_wakeup("jobs").await.unwrap(),
        Some(now + 40_000)
    );
    lease(&h, "jobs", 1).await;
    assert_eq!(
        h.store.next_wakeup("jobs").await.unwrap(),
        Some(now + VISIBILITY_MS as i64),
        "a lease expiry wakes"
    );
}

/// Operations on undefined queues fail with NotFound; definitions round-trip.
pub async fn unknown_queues_are_not_found(h: Harness) {
    assert_not_found(
        h.store.enqueue(&[message("nope", json!(1))]).await,
        "enqueue on an undefined queue",
    );
    assert_not_found(
        h.store.lease("nope", "w", 1).await,
        "lease on an undefined queue",
    );
    assert_not_found(
        h.store.queue_def("nope").await,
        "queue_def of an undefined queue",
    );
    assert_not_found(
        h.store.define_queues(&[queue("orphan")]).await,
        "a queue whose DLQ is undefined",
    );
    define(&h, queue("jobs")).await;
    assert_eq!(
        h.store.queue_def("jobs").await.unwrap(),
        queue("jobs"),
        "definitions must round-trip"
    );
    let changed = crate::QueueDef {
        concurrency: Some(4),
        ..queue("jobs")
    };
    h.store
        .define_queues(std::slice::from_ref(&changed))
        .await
        .expect("redefining a queue");
    assert_eq!(
        h.store.queue_def("jobs").await.unwrap(),
        changed,
        "define_queues must update in place"
    );
}
