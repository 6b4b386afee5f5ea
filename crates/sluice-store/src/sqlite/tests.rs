//! Failure modes that need access to the store's connection to provoke:
//! a full disk and a database that can no longer be written.

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
