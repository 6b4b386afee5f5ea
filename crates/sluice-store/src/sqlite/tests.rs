//! Failure modes that need access to the store's connection to provoke:
//! a full disk and a database that can no longer be written; and group
//! commit under concurrent writes.

use super::SqliteStore;
use crate::{NewMessage, QueueDef, Store, StoreError};
use serde_json::json;
use sluice_core::time::ManualClock;

fn queue() -> QueueDef {
    QueueDef {
        name: "jobs".into(),
        visibility_timeout_ms: 1_000,
        max_receive_count: 1,
        dead_letter_queue: None,
        concurrency: None,
        dedup_window_ms: 0,
        backoff: Default::default(),
    }
}

async fn store_in(dir: &tempfile::TempDir) -> SqliteStore {
    let store =
        SqliteStore::open(&dir.path().join("state.db"), ManualClock::starting_at(0)).unwrap();
    store.define_queues(&[queue()]).await.unwrap();
    store
}

fn big_message() -> NewMessage {
    NewMessage {
        queue: "jobs".into(),
        body: json!("x".repeat(256 * 1024)),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_full_disk_makes_the_store_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir).await;
    {
        // Capping the page count is how SQLite lets us simulate SQLITE_FULL.
        let conn = store.writer.lock().unwrap();
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |row| row.get(0))
            .unwrap();
        conn.pragma_update(None, "max_page_count", pages).unwrap();
    }
    match store.enqueue(&[big_message()]).await {
        Err(err @ StoreError::Unusable { .. }) => {
            let message = err.to_string();
            assert!(
                message.contains("state.db") && message.contains("disk is full"),
                "{message}"
            );
        }
        other => panic!("a full database must be Unusable, got {other:?}"),
    }
    let small = NewMessage {
        queue: "jobs".into(),
        body: json!(1),
        ..Default::default()
    };
    store
        .enqueue(&[small])
        .await
        .expect("the failed transaction was rolled back cleanly");
}

#[tokio::test]
async fn a_database_that_cannot_be_written_is_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir).await;
    store
        .writer
        .lock()
        .unwrap()
        .pragma_update(None, "query_only", true)
        .unwrap();
    match store.enqueue(&[big_message()]).await {
        Err(err @ StoreError::Unusable { .. }) => {
            assert!(err.to_string().contains("read-only"), "{err}")
        }
        other => panic!("an unwritable database must be Unusable, got {other:?}"),
    }
}

fn small_message(queue: &str, i: u32) -> NewMessage {
    NewMessage {
        queue: queue.into(),
        body: json!(i),
        ..Default::default()
    }
}

/// Starts `n` enqueues at once, message `i` made by `message(i)`.
fn enqueue_concurrently(
    store: &SqliteStore,
    n: u32,
    message: impl Fn(u32) -> NewMessage,
) -> Vec<tokio::task::JoinHandle<(u32, crate::StoreResult<Vec<crate::Enqueued>>)>> {
    (0..n)
        .map(|i| {
            let (store, message) = (store.clone(), message(i));
            tokio::spawn(async move { (i, store.enqueue(&[message]).await) })
        })
        .collect()
}

/// Concurrent writes share transactions (group commit); one that fails must
/// undo only itself, and every caller hears its own result.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_commit_together_and_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir).await;
    let writes = enqueue_concurrently(&store, 200, |i| {
        let queue = if i % 10 == 3 { "missing" } else { "jobs" };
        small_message(queue, i)
    });
    let mut stored = 0;
    for write in writes {
        let (i, result) = write.await.unwrap();
        match (i % 10 == 3, result) {
            (true, Err(StoreError::NotFound { .. })) => {}
            (false, Ok(enqueued)) => {
                assert_eq!(enqueued.len(), 1);
                stored += 1;
            }
            (bad, other) => panic!("write {i} (to a missing queue: {bad}) gave {other:?}"),
        }
    }
    assert_eq!(stored, 180);
    let stats = store.queue_stats("jobs").await.unwrap();
    assert_eq!(stats.visible, 180, "{stats:?}");
}

/// A write whose failure makes SQLite roll back the whole shared transaction
/// (a full disk) fails, and writes queued with it still go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_that_aborts_the_shared_transaction_does_not_take_others_down() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir).await;
    {
        let conn = store.writer.lock().unwrap();
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |row| row.get(0))
            .unwrap();
        conn.pragma_update(None, "max_page_count", pages + 4)
            .unwrap();
    }
    let writes = enqueue_concurrently(&store, 40, |i| {
        if i % 8 == 0 {
            big_message()
        } else {
            small_message("jobs", i)
        }
    });
    let mut small_ok = 0;
    for write in writes {
        match write.await.unwrap() {
            (i, Ok(_)) => {
                assert_ne!(i % 8, 0, "a big write cannot fit");
                small_ok += 1;
            }
            // A big write fills the disk; a small one may have shared the
            // transaction the big one aborted. Either way: a clear error.
            (_, Err(StoreError::Unusable { reason, .. })) => {
                assert!(reason.contains("disk is full"), "{reason}")
            }
            (i, other) => panic!("write {i}: {other:?}"),
        }
    }
    let stats = store.queue_stats("jobs").await.unwrap();
    assert_eq!(
        stats.visible, small_ok,
        "every write reported stored is stored, and no other"
    );
    assert!(small_ok > 0, "small writes must get through");
}
