//! Checks of volume and contention: large batches and many workers leasing
//! from one queue at once, where "exactly once per lease" must still hold.

use super::support::*;
use super::Harness;
use crate::{NewMessage, QueueDef, QueueStats};
use serde_json::json;
use std::collections::HashSet;

/// Ten thousand messages enqueued in one call each come out exactly once.
pub async fn large_batch_is_delivered_exactly_once(h: Harness) {
    const COUNT: usize = 10_000;
    define(&h, queue("bulk")).await;
    let messages: Vec<NewMessage> = (0..COUNT)
        .map(|n| message("bulk", json!({ "n": n })))
        .collect();
    let enqueued = h
        .store
        .enqueue(&messages)
        .await
        .expect("enqueueing a large batch");
    assert_eq!(enqueued.len(), COUNT);
    let expected: HashSet<String> = enqueued.into_iter().map(|e| e.message_id).collect();
    assert_eq!(
        expected.len(),
        COUNT,
        "every message of a batch gets its own id"
    );
    let mut seen = HashSet::new();
    let mut previous = -1;
    loop {
        let leases = lease(&h, "bulk", 1_000).await;
        if leases.is_empty() {
            break;
        }
        for l in &leases {
            assert!(
                seen.insert(l.receipt.message_id.clone()),
                "message {} delivered twice",
                l.receipt.message_id
            );
            let n = l.body["n"].as_i64().unwrap_or(-1);
            assert!(
                n > previous,
                "batch order must be kept: {n} after {previous}"
            );
            previous = n;
        }
        ack_all(&h, &leases).await;
    }
    assert_eq!(
        seen, expected,
        "every enqueued message must be delivered exactly once"
    );
    assert_eq!(
        h.store.queue_stats("bulk").await.unwrap(),
        QueueStats::default()
    );
}

/// Workers leasing and acking concurrently each get distinct messages, every
/// message is delivered exactly once, and the concurrency limit holds throughout.
pub async fn concurrent_workers_share_messages_exactly_once(h: Harness) {
    const COUNT: usize = 600;
    const LIMIT: u64 = 5;
    define(
        &h,
        QueueDef {
            concurrency: Some(LIMIT as u32),
            ..queue("shared")
        },
    )
    .await;
    let messages: Vec<NewMessage> = (0..COUNT)
        .map(|n| message("shared", json!({ "n": n })))
        .collect();
    h.store
        .enqueue(&messages)
        .await
        .expect("enqueueing the shared backlog");
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let store = h.store.clone();
            tokio::spawn(async move {
                let worker = format!("worker-{w}");
                let mut taken = Vec::new();
                let mut idle_rounds = 0;
                while idle_rounds < 50 {
                    let leases = store
                        .lease("shared", &worker, 3)
                        .await
                        .expect("lease under contention");
                    let in_flight = store.queue_stats("shared").await.expect("stats").in_flight;
                    assert!(
                        in_flight <= LIMIT,
                        "{in_flight} messages in flight with a limit of {LIMIT}"
                    );
                    if leases.is_empty() {
                        idle_rounds += 1;
                        tokio::task::yield_now().await;
                        continue;
                    }
                    idle_rounds = 0;
                    let receipts: Vec<_> = leases.iter().map(|l| l.receipt.clone()).collect();
                    store.ack(&receipts).await.expect("acking under contention");
                    taken.extend(leases.into_iter().map(|l| l.receipt.message_id));
                }
                taken
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for worker in workers {
        for id in worker.await.expect("a worker task panicked") {
            assert!(
                seen.insert(id.clone()),
                "message {id} was delivered to two workers"
            );
        }
    }
    assert_eq!(seen.len(), COUNT, "every message must be delivered once");
    assert_eq!(
        h.store.queue_stats("shared").await.unwrap(),
        QueueStats::default()
    );
}
