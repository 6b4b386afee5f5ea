//! The conformance suite against PostgreSQL, plus what only a shared server
//! has: several stores (standing in for several Sluice processes) leasing from
//! one schema at once. Failure modes are in `postgres_failures.rs`.
//!
//! Runs against the database at `SLUICE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), each test in a fresh schema of
//! its own that is dropped when the test ends; an unreachable server fails
//! the tests.

mod postgres_support;

use postgres_support::{connect, fresh_store};
use serde_json::json;
use sluice_core::time::{Clock, ManualClock};
use sluice_store::conformance::{Harness, START};
use sluice_store::{Lease, NewMessage, QueueDef, Store};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

async fn harness() -> Harness {
    let clock = ManualClock::starting_at(START);
    let (store, guard) = fresh_store(clock.clone()).await;
    Harness::new(Arc::new(store), clock).with_guard(guard)
}

sluice_store::store_conformance_tests!(harness);

fn jobs_queue(concurrency: Option<u32>) -> QueueDef {
    QueueDef {
        name: "jobs".into(),
        visibility_timeout_ms: 30_000,
        max_receive_count: 3,
        dead_letter_queue: None,
        concurrency,
        dedup_window_ms: 0,
        backoff: Default::default(),
    }
}

fn numbered(count: usize, group: impl Fn(usize) -> Option<String>) -> Vec<NewMessage> {
    (0..count)
        .map(|n| NewMessage {
            queue: "jobs".into(),
            body: json!({ "n": n }),
            group: group(n),
            ..Default::default()
        })
        .collect()
}

/// Two stores (two pools) on one schema stand in for two Sluice processes:
/// the concurrency limit must hold across them, not just within one.
#[tokio::test]
async fn concurrency_limit_holds_across_stores_sharing_a_schema() {
    let clock = ManualClock::starting_at(START);
    let (first, guard) = fresh_store(clock.clone()).await;
    let second = connect(&guard.url, &guard.schema, clock).await;
    first.define_queues(&[jobs_queue(Some(2))]).await.unwrap();
    second.enqueue(&numbered(10, |_| None)).await.unwrap();
    let taken = first.lease("jobs", "a", 10).await.unwrap();
    assert_eq!(taken.len(), 2, "the first process fills the limit");
    assert!(
        second.lease("jobs", "b", 10).await.unwrap().is_empty(),
        "the second process sees the limit"
    );
    second
        .ack(&[taken[0].receipt.clone()])
        .await
        .expect("a receipt works through any process");
    let next = second.lease("jobs", "b", 10).await.unwrap();
    assert_eq!(
        next.len(),
        1,
        "an ack in one process frees a slot for the other"
    );
    assert_ne!(next[0].receipt.message_id, taken[1].receipt.message_id);
}

/// Four tasks on two pools (real parallelism: a multi-threaded runtime) lease
/// and ack one backlog. Each message must come out exactly once; with a limit
/// the in-flight count must never exceed it; with groups no two members of a
/// group may be in flight at once and each group must come out in order.
async fn contended(concurrency: Option<u32>, groups: usize) {
    const COUNT: usize = 400;
    let clock: Arc<dyn Clock> = sluice_core::time::system_clock();
    let (first, guard) = fresh_store(clock.clone()).await;
    let second = connect(&guard.url, &guard.schema, clock).await;
    first
        .define_queues(&[jobs_queue(concurrency)])
        .await
        .unwrap();
    let group_of = |n: usize| (groups > 0).then(|| format!("g{}", n % groups));
    first.enqueue(&numbered(COUNT, group_of)).await.unwrap();
    let stores = [Arc::new(first), Arc::new(second)];
    // Messages in flight right now (id → group), and every lease's (group, n)
    // in the order leases happened, shared by the tasks.
    let in_flight: Arc<Mutex<HashMap<String, Option<String>>>> = Arc::default();
    let leased_order: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let tasks: Vec<_> = (0..4)
        .map(|w| {
            let store = Arc::clone(&stores[w % 2]);
            let (in_flight, leased_order) = (Arc::clone(&in_flight), Arc::clone(&leased_order));
            tokio::spawn(async move {
                let mut taken: Vec<Lease> = Vec::new();
                let mut idle = 0;
                while idle < 100 {
                    let leases = store.lease("jobs", &format!("w{w}"), 3).await.unwrap();
                    if leases.is_empty() {
                        idle += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                        continue;
                    }
                    idle = 0;
                    {
                        let mut now = in_flight.lock().unwrap();
                        let mut order = leased_order.lock().unwrap();
                        for lease in &leases {
                            if let Some(group) = &lease.group {
                                assert!(
                                    !now.values().any(|g| g.as_ref() == Some(group)),
                                    "two members of group {group} in flight at once"
                                );
                                order.push((group.clone(), lease.body["n"].as_i64().unwrap()));
                            }
                            now.insert(lease.receipt.message_id.clone(), lease.group.clone());
                        }
                        if let Some(limit) = concurrency {
                            let count = now.len();
                            assert!(count <= limit as usize, "{count} in flight, limit {limit}");
                        }
                    }
                    tokio::task::yield_now().await;
                    {
                        // Forget them before acking: once acked, another task may
                        // rightly lease the group's next member.
                        let mut now = in_flight.lock().unwrap();
                        for lease in &leases {
                            now.remove(&lease.receipt.message_id);
                        }
                    }
                    let receipts: Vec<_> = leases.iter().map(|l| l.receipt.clone()).collect();
                    store.ack(&receipts).await.unwrap();
                    taken.extend(leases);
                }
                taken
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for task in tasks {
        for lease in task.await.expect("a leasing task panicked") {
            let n = lease.body["n"].as_i64().unwrap();
            assert!(seen.insert(n), "message {n} was delivered twice");
        }
    }
    assert_eq!(seen.len(), COUNT, "every message must be delivered");
    let mut last_of_group: HashMap<String, i64> = HashMap::new();
    for (group, n) in leased_order.lock().unwrap().iter() {
        if let Some(previous) = last_of_group.insert(group.clone(), *n) {
            assert!(
                previous < *n,
                "group {group}: {n} was delivered after {previous}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_tasks_on_two_pools_deliver_each_message_exactly_once() {
    contended(None, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_tasks_on_two_pools_respect_the_concurrency_limit() {
    contended(Some(3), 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_tasks_on_two_pools_respect_fifo_groups() {
    contended(None, 5).await;
}
