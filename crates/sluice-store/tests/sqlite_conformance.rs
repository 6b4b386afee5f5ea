//! The conformance suite against SQLite, plus checks only a file-backed store has:
//! durability across reopen and refusal of unusable files.

use serde_json::json;
use sluice_core::time::{Clock, ManualClock};
use sluice_store::conformance::{Harness, START};
use sluice_store::sqlite::SqliteStore;
use sluice_store::{NewMessage, NewRun, QueueDef, Store, StoreError};
use std::path::Path;
use std::sync::Arc;

/// A fresh store in its own temporary directory, which lives as long as the harness.
async fn harness() -> Harness {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let clock = ManualClock::starting_at(START);
    let store = SqliteStore::open(&dir.path().join("state.db"), clock.clone())
        .expect("opening a fresh store");
    Harness::new(Arc::new(store), clock).with_guard(dir)
}

sluice_store::store_conformance_tests!(harness);

fn open(path: &Path) -> Result<SqliteStore, StoreError> {
    let clock: Arc<dyn Clock> = ManualClock::starting_at(START);
    SqliteStore::open(path, clock)
}

fn jobs_queue() -> QueueDef {
    QueueDef {
        name: "jobs".into(),
        visibility_timeout_ms: 30_000,
        max_receive_count: 3,
        dead_letter_queue: None,
        concurrency: None,
        dedup_window_ms: 0,
        backoff: Default::default(),
    }
}

#[tokio::test]
async fn reopening_the_file_keeps_messages_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/state.db");
    {
        let store = open(&path).expect("open creates missing directories");
        store.define_queues(&[jobs_queue()]).await.unwrap();
        let message = NewMessage {
            queue: "jobs".into(),
            body: json!({ "k": "v" }),
            ..Default::default()
        };
        store.enqueue(std::slice::from_ref(&message)).await.unwrap();
        let run = NewRun {
            id: "run_1".into(),
            kind: sluice_core::RunKind::Function,
            target: "f".into(),
            input: json!([1, 2]),
            trigger: "invoke".into(),
        };
        store.submit_run(&run, &message).await.unwrap();
    }
    let store = open(&path).expect("reopening an existing store");
    assert_eq!(store.queue_def("jobs").await.unwrap(), jobs_queue());
    assert_eq!(store.get_run("run_1").await.unwrap().input, json!([1, 2]));
    let leases = store.lease("jobs", "w", 10).await.unwrap();
    assert_eq!(leases.len(), 2, "both messages survive a reopen");
    assert_eq!(leases[0].body, json!({ "k": "v" }));
    assert!(store.describe().starts_with("sqlite:") && store.describe().contains("state.db"));
}

#[tokio::test]
async fn garbage_file_is_unusable_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    std::fs::write(&path, vec![b'x'; 8192]).unwrap();
    match open(&path) {
        Err(StoreError::Unusable { location, reason }) => {
            assert!(
                location.contains("state.db"),
                "the error must name the file: {location}"
            );
            let message = StoreError::Unusable { location, reason }.to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(
                message.contains("move it away") && message.contains("backup"),
                "{message}"
            );
        }
        other => panic!("a garbage file must be Unusable, got {other:?}"),
    }
}

#[tokio::test]
async fn newer_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SqliteStore::schema_version() + 1)
        .unwrap();
    drop(conn);
    match open(&path) {
        Err(err @ StoreError::Unusable { .. }) => {
            let message = err.to_string();
            assert!(message.contains("state.db"), "{message}");
            assert!(
                message.contains("newer version of Sluice") && message.contains("upgrade Sluice"),
                "{message}"
            );
        }
        other => panic!("a newer schema must be Unusable, got {other:?}"),
    }
}

#[tokio::test]
async fn foreign_sqlite_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT)")
        .unwrap();
    drop(conn);
    match open(&path) {
        Err(err @ StoreError::Unusable { .. }) => {
            assert!(
                err.to_string().contains("not a Sluice state store"),
                "{err}"
            );
        }
        other => panic!("another program's database must be Unusable, got {other:?}"),
    }
}

#[tokio::test]
async fn read_only_file_is_unusable() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(open(&path).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    if std::fs::OpenOptions::new().write(true).open(&path).is_ok() {
        return; // running as root: permissions do not apply
    }
    match open(&path) {
        Err(err @ StoreError::Unusable { .. }) => {
            assert!(err.to_string().contains("writable"), "{err}")
        }
        other => panic!("a read-only database must be Unusable, got {other:?}"),
    }
}

#[tokio::test]
async fn clock_drives_visibility_not_the_system_time() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::starting_at(1_000);
    let store = SqliteStore::open(&dir.path().join("state.db"), clock.clone()).unwrap();
    store.define_queues(&[jobs_queue()]).await.unwrap();
    let message = NewMessage {
        queue: "jobs".into(),
        body: json!(1),
        delay_ms: 10,
        ..Default::default()
    };
    store.enqueue(&[message]).await.unwrap();
    assert!(
        store.lease("jobs", "w", 1).await.unwrap().is_empty(),
        "1970 + 1 s is before the delay ends"
    );
    clock.advance(10);
    assert_eq!(
        store.lease("jobs", "w", 1).await.unwrap()[0].leased_until,
        1_010 + 30_000
    );
}

/// Two stores on one file stand in for two Sluice processes: the concurrency
/// limit and exactly-once leasing must hold across them, not just within one.
#[tokio::test]
async fn concurrency_limit_holds_across_stores_sharing_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let (first, second) = (open(&path).unwrap(), open(&path).unwrap());
    let limited = QueueDef {
        concurrency: Some(2),
        ..jobs_queue()
    };
    first.define_queues(&[limited]).await.unwrap();
    let messages: Vec<NewMessage> = (0..10)
        .map(|n| NewMessage {
            queue: "jobs".into(),
            body: json!(n),
            ..Default::default()
        })
        .collect();
    second.enqueue(&messages).await.unwrap();
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

#[tokio::test]
async fn a_directory_in_place_of_the_file_is_unusable() {
    let dir = tempfile::tempdir().unwrap();
    match open(dir.path()) {
        Err(err @ StoreError::Unusable { .. }) => {
            assert!(
                err.to_string().contains(&dir.path().display().to_string()),
                "{err}"
            )
        }
        other => panic!("a directory must be Unusable, got {other:?}"),
    }
}
