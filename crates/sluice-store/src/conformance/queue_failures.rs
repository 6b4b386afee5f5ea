//! Checks of failed deliveries: retry delays, dead-lettering, redrive, and
//! fencing across those moves.

use super::support::*;
use super::Harness;
use crate::{FailOutcome, NewMessage, QueueDef};
use serde_json::json;

/// `fail` hides the message for `retry_delay_ms`, records the error, and
/// closes the delivery.
pub async fn fail_delays_redelivery_by_retry_delay(h: Harness) {
    define(&h, queue("jobs")).await;
    enqueue(&h, message("jobs", json!({ "n": 1 }))).await;
    let receipt = lease(&h, "jobs", 1).await.remove(0).receipt;
    let outcome = h
        .store
        .fail(&receipt, "boom", 2_000)
        .await
        .expect("failing a current lease");
    assert_eq!(
        outcome,
        FailOutcome::Retrying {
            visible_at: h.now() + 2_000
        }
    );
    assert_lease_lost(
        h.store.ack(std::slice::from_ref(&receipt)).await,
        "acking a delivery that was already failed",
    );
    h.advance(1_999);
    assert!(
        lease(&h, "jobs", 1).await.is_empty(),
        "a failed message must wait for its retry delay"
    );
    assert_eq!(
        h.store.next_wakeup("jobs").await.unwrap(),
        Some(h.now() + 1),
        "the backoff end is the next wakeup"
    );
    h.advance(1);
    let retry = lease(&h, "jobs", 1).await;
    assert_eq!(
        retry.len(),
        1,
        "a failed message comes back after its retry delay"
    );
    assert_eq!(
        retry[0].last_error.as_deref(),
        Some("boom"),
        "the redelivery carries the previous error"
    );
    assert_eq!(retry[0].receipt.receive_count, 2);
}

/// At `max_receive_count` deliveries, `fail` moves the message to the
/// dead-letter queue with its body, id, group and run, remembering its source.
pub async fn exhausted_message_is_dead_lettered_on_fail(h: Harness) {
    define(
        &h,
        QueueDef {
            max_receive_count: 2,
            ..queue("jobs")
        },
    )
    .await;
    let id = enqueue(
        &h,
        NewMessage {
            group: Some("g".into()),
            run_id: Some("run_x".into()),
            ..message("jobs", json!({ "n": 7 }))
        },
    )
    .await;
    let first = lease(&h, "jobs", 1).await.remove(0).receipt;
    assert!(matches!(
        h.store.fail(&first, "first", 0).await.unwrap(),
        FailOutcome::Retrying { .. }
    ));
    let second = lease(&h, "jobs", 1).await.remove(0).receipt;
    let outcome = h.store.fail(&second, "second", 0).await.unwrap();
    assert_eq!(
        outcome,
        FailOutcome::DeadLettered {
            queue: "jobs-dlq".into()
        }
    );
    assert!(
        h.store.list_messages("jobs", 0).await.unwrap().is_empty(),
        "a dead letter leaves its queue"
    );
    let dead = h.store.list_messages("jobs-dlq", 0).await.unwrap();
    assert_eq!(
        dead.len(),
        1,
        "the message must be on the dead-letter queue"
    );
    let dead = &dead[0];
    assert_eq!(dead.message_id, id, "a dead letter keeps its id");
    assert_eq!(dead.body, json!({ "n": 7 }), "a dead letter keeps its body");
    assert_eq!(
        dead.group.as_deref(),
        Some("g"),
        "a dead letter keeps its group"
    );
    assert_eq!(
        dead.run_id.as_deref(),
        Some("run_x"),
        "a dead letter keeps its run"
    );
    assert_eq!(
        dead.source_queue.as_deref(),
        Some("jobs"),
        "a dead letter remembers its source queue"
    );
    assert_eq!(
        dead.last_error.as_deref(),
        Some("second"),
        "a dead letter keeps the last error"
    );
    assert_eq!(
        dead.receive_count, 0,
        "a dead letter starts with a fresh receive count"
    );
    assert_eq!(dead.leased_by, None);
    assert_lease_lost(
        h.store.ack(&[second]).await,
        "acking a dead-lettered message",
    );
}

/// A message whose last allowed delivery expired is dead-lettered by the next
/// lease instead of being delivered again.
pub async fn expired_final_lease_is_dead_lettered_on_next_lease(h: Harness) {
    define(
        &h,
        QueueDef {
            max_receive_count: 1,
            ..queue("jobs")
        },
    )
    .await;
    let id = enqueue(&h, message("jobs", json!({ "n": 1 }))).await;
    enqueue(&h, message("jobs", json!({ "n": 2 }))).await;
    let receipt = lease(&h, "jobs", 1).await.remove(0).receipt;
    h.advance(VISIBILITY_MS as i64);
    assert_eq!(
        numbers(&lease(&h, "jobs", 10).await),
        [2],
        "an exhausted message must not be delivered again"
    );
    let dead = h.store.list_messages("jobs-dlq", 0).await.unwrap();
    assert_eq!(
        dead.iter()
            .map(|m| m.message_id.clone())
            .collect::<Vec<_>>(),
        [id]
    );
    assert_eq!(dead[0].source_queue.as_deref(), Some("jobs"));
    assert_lease_lost(
        h.store.ack(&[receipt]).await,
        "acking an expired lease after dead-lettering",
    );
}

/// Without a dead-letter queue nothing is ever dropped: the message keeps
/// being retried past `max_receive_count`.
pub async fn queue_without_dead_letter_queue_keeps_retrying(h: Harness) {
    define(
        &h,
        QueueDef {
            max_receive_count: 1,
            dead_letter_queue: None,
            ..queue("plain")
        },
    )
    .await;
    enqueue(&h, message("plain", json!({ "n": 1 }))).await;
    for delivery in 1..=3 {
        let receipt = lease(&h, "plain", 1).await.remove(0).receipt;
        let outcome = h.store.fail(&receipt, "again", 0).await.unwrap();
        assert!(
            matches!(outcome, FailOutcome::Retrying { .. }),
            "delivery {delivery}: {outcome:?}"
        );
    }
    let receipt = lease(&h, "plain", 1).await.remove(0).receipt;
    h.advance(VISIBILITY_MS as i64);
    assert_eq!(
        lease(&h, "plain", 1).await.len(),
        1,
        "an expired lease without a DLQ is redelivered"
    );
    assert_lease_lost(h.store.ack(&[receipt]).await, "the older receipt is stale");
}

/// Dead-letters the first `count` numbered messages of `jobs` (max receive 1).
async fn dead_letter_numbered(h: &Harness, count: i64) -> Vec<String> {
    define(
        h,
        QueueDef {
            max_receive_count: 1,
            ..queue("jobs")
        },
    )
    .await;
    let ids = enqueue_numbered(h, "jobs", count).await;
    for lease in lease(h, "jobs", count as usize).await {
        let outcome = h.store.fail(&lease.receipt, "boom", 0).await.unwrap();
        assert!(
            matches!(outcome, FailOutcome::DeadLettered { .. }),
            "{outcome:?}"
        );
    }
    ids
}

/// Redrive moves dead letters back to their source queue, deliverable at
/// once, in their original order, with a fresh receive count.
pub async fn redrive_returns_messages_to_their_source(h: Harness) {
    let ids = dead_letter_numbered(&h, 3).await;
    assert_eq!(
        h.store.redrive("jobs-dlq", 2).await.unwrap(),
        2,
        "redrive moves at most max messages"
    );
    assert_eq!(
        h.store.redrive("jobs-dlq", 10).await.unwrap(),
        1,
        "a second redrive moves the rest"
    );
    assert_eq!(
        h.store.redrive("jobs-dlq", 10).await.unwrap(),
        0,
        "an empty DLQ redrives nothing"
    );
    let back = h.store.list_messages("jobs", 0).await.unwrap();
    assert_eq!(
        back.iter()
            .map(|m| m.message_id.clone())
            .collect::<Vec<_>>(),
        ids,
        "original order is kept"
    );
    assert!(back
        .iter()
        .all(|m| m.receive_count == 0 && m.source_queue.is_none() && m.leased_by.is_none()));
    let leases = lease(&h, "jobs", 10).await;
    assert_eq!(
        numbers(&leases),
        [1, 2, 3],
        "redriven messages are deliverable again, in order"
    );
    ack_all(&h, &leases).await;
}

/// A receipt from before a dead-letter and redrive round trip stays stale,
/// even though the new delivery's receive count on the queue is the same.
pub async fn receipts_stay_stale_across_a_redrive(h: Harness) {
    define(
        &h,
        QueueDef {
            max_receive_count: 1,
            ..queue("jobs")
        },
    )
    .await;
    enqueue(&h, message("jobs", json!({ "n": 1 }))).await;
    let old = lease(&h, "jobs", 1).await.remove(0).receipt;
    h.advance(VISIBILITY_MS as i64);
    assert!(
        lease(&h, "jobs", 1).await.is_empty(),
        "the exhausted message is dead-lettered"
    );
    assert_eq!(h.store.redrive("jobs-dlq", 10).await.unwrap(), 1);
    let new = lease(&h, "jobs", 1).await.remove(0).receipt;
    assert_eq!(new.message_id, old.message_id);
    assert_ne!(new, old, "a new delivery must get a new receipt");
    assert_lease_lost(
        h.store.ack(std::slice::from_ref(&old)).await,
        "ack with a receipt from before the redrive",
    );
    assert_lease_lost(
        h.store.extend_lease(&old, 1_000).await,
        "extend with a receipt from before the redrive",
    );
    h.store
        .ack(&[new])
        .await
        .expect("the new receipt is current");
}

/// A redriven grouped message goes behind its group: it is not delivered
/// while a later member of the group is in flight (one at a time holds).
pub async fn redriven_grouped_message_waits_for_its_group(h: Harness) {
    define(
        &h,
        QueueDef {
            max_receive_count: 1,
            ..queue("jobs")
        },
    )
    .await;
    enqueue(&h, grouped("jobs", "g", 1)).await;
    enqueue(&h, grouped("jobs", "g", 2)).await;
    let first = lease(&h, "jobs", 10).await;
    assert_eq!(numbers(&first), [1]);
    h.store.fail(&first[0].receipt, "boom", 0).await.unwrap();
    let second = lease(&h, "jobs", 10).await;
    assert_eq!(
        numbers(&second),
        [2],
        "the group moves on once its head is dead-lettered"
    );
    assert_eq!(h.store.redrive("jobs-dlq", 10).await.unwrap(), 1);
    assert!(
        lease(&h, "jobs", 10).await.is_empty(),
        "a redriven member must wait while its group is in flight"
    );
    ack_all(&h, &second).await;
    assert_eq!(
        numbers(&lease(&h, "jobs", 10).await),
        [1],
        "then it is delivered"
    );
}
