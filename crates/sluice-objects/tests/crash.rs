//! A crash right after a PUT returns loses neither the object nor its event:
//! a child process (this test binary, re-executed) puts an object and aborts
//! at once, without any shutdown; the parent reopens the data directory.

mod common;

use sluice_objects::{ObjectService, PutObjectOptions};

const CHILD_ENV: &str = "SLUICE_OBJECTS_CRASH_CHILD_DIR";

/// In the child: put, then die like `kill -9` would leave things.
#[tokio::test]
async fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return; // Only meaningful when started by `a_crash_after_put_keeps_object_and_event`.
    };
    let service = ObjectService::open(dir.as_ref()).await.unwrap();
    let bucket = sluice_spec::Bucket {
        notifications: vec![common::catch_all_rule()],
        ..Default::default()
    };
    service.declare_bucket("crashy", &bucket).await.unwrap();
    let body = common::body(vec![b"survives".to_vec()], false);
    service
        .put_object("crashy", "k", body, PutObjectOptions::default())
        .await
        .unwrap();
    std::process::abort();
}

#[tokio::test]
async fn a_crash_after_put_keeps_object_and_event() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_ENV, dir.path())
        .status()
        .unwrap();
    assert!(!status.success(), "the child should have aborted");

    let service = ObjectService::open(dir.path()).await.unwrap();
    let bucket = sluice_spec::Bucket {
        notifications: vec![common::catch_all_rule()],
        ..Default::default()
    };
    service.declare_bucket("crashy", &bucket).await.unwrap();
    let object = service
        .get_object("crashy", "k", &Default::default())
        .await
        .unwrap();
    assert_eq!(common::collect(object.bytes).await, b"survives");
    let events = common::pending_events(&service).await;
    assert_eq!(
        events,
        [(
            "ObjectCreated:Put".to_string(),
            "crashy".to_string(),
            "k".to_string()
        )]
    );
}
