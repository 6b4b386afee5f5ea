//! Small builders and assertions shared by the conformance checks.

use super::Harness;
use crate::{Lease, NewMessage, QueueDef, Receipt, StoreError, StoreResult};
use serde_json::{json, Value};
use sluice_core::Backoff;
use std::fmt::Debug;

/// Visibility timeout of the queues the checks define.
pub(crate) const VISIBILITY_MS: u64 = 30_000;
/// Dedup window of the queues the checks define.
pub(crate) const DEDUP_WINDOW_MS: u64 = 60_000;

/// A queue with a dead-letter queue named `<name>-dlq`, three deliveries, no
/// concurrency limit.
pub(crate) fn queue(name: &str) -> QueueDef {
    QueueDef {
        name: name.to_string(),
        visibility_timeout_ms: VISIBILITY_MS,
        max_receive_count: 3,
        dead_letter_queue: Some(format!("{name}-dlq")),
        concurrency: None,
        dedup_window_ms: DEDUP_WINDOW_MS,
        backoff: Backoff::default(),
    }
}

/// Defines `def` and its dead-letter queue.
pub(crate) async fn define(h: &Harness, def: QueueDef) {
    let mut defs = vec![def.clone()];
    if let Some(dlq) = &def.dead_letter_queue {
        defs.insert(
            0,
            QueueDef {
                dead_letter_queue: None,
                ..queue(dlq)
            },
        );
    }
    h.store
        .define_queues(&defs)
        .await
        .expect("define_queues should accept a queue and its dead-letter queue");
}

/// A message with body `body` on `queue`.
pub(crate) fn message(queue: &str, body: Value) -> NewMessage {
    NewMessage {
        queue: queue.to_string(),
        body,
        ..NewMessage::default()
    }
}

/// A message of `group` with body `{"n": n}`.
pub(crate) fn grouped(queue: &str, group: &str, n: i64) -> NewMessage {
    NewMessage {
        group: Some(group.to_string()),
        ..message(queue, json!({ "n": n }))
    }
}

/// Enqueues one message and returns its id.
pub(crate) async fn enqueue(h: &Harness, message: NewMessage) -> String {
    let out = h
        .store
        .enqueue(&[message])
        .await
        .expect("enqueue should succeed");
    assert_eq!(out.len(), 1, "enqueue must return one outcome per message");
    out[0].message_id.clone()
}

/// Enqueues messages with bodies `{"n": 1}`, `{"n": 2}`, ... and returns their ids.
pub(crate) async fn enqueue_numbered(h: &Harness, queue: &str, count: i64) -> Vec<String> {
    let messages: Vec<NewMessage> = (1..=count)
        .map(|n| message(queue, json!({ "n": n })))
        .collect();
    let out = h
        .store
        .enqueue(&messages)
        .await
        .expect("enqueue should succeed");
    out.into_iter().map(|e| e.message_id).collect()
}

/// Leases up to `max` messages for worker `w`.
pub(crate) async fn lease(h: &Harness, queue: &str, max: usize) -> Vec<Lease> {
    h.store
        .lease(queue, "w", max)
        .await
        .expect("lease should succeed")
}

/// The `n` field of each leased body, in lease order.
pub(crate) fn numbers(leases: &[Lease]) -> Vec<i64> {
    leases
        .iter()
        .map(|l| l.body["n"].as_i64().unwrap_or(-1))
        .collect()
}

/// The receipts of `leases`.
pub(crate) fn receipts(leases: &[Lease]) -> Vec<Receipt> {
    leases.iter().map(|l| l.receipt.clone()).collect()
}

/// Acks every lease.
pub(crate) async fn ack_all(h: &Harness, leases: &[Lease]) {
    h.store
        .ack(&receipts(leases))
        .await
        .expect("acking current receipts should succeed");
}

/// Asserts `result` is a [`StoreError::LeaseLost`].
pub(crate) fn assert_lease_lost<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::LeaseLost { .. }) => {}
        other => panic!("{what}: expected LeaseLost, got {other:?}"),
    }
}

/// Asserts `result` is a [`StoreError::NotFound`].
pub(crate) fn assert_not_found<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

/// Asserts `result` is a [`StoreError::Conflict`].
pub(crate) fn assert_conflict<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected Conflict, got {other:?}"),
    }
}
