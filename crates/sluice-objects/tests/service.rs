//! The domain API without HTTP, part one: the commit rule (an object and its
//! events together, or neither), freeing blobs, and waking the outbox relay.

mod common;

use sluice_objects::{ObjectError, ObjectService, PutObjectOptions};

use common::{put, read};

#[tokio::test]
async fn one_event_per_committed_put_and_none_for_failures() {
    let endpoint = common::start(&[("plain", false)]).await;
    let service = &endpoint.service;
    let version = put(service, "plain", "in box/a+b ü.csv", b"abc").await;
    assert_eq!(version.etag, "900150983cd24fb0d6963f7d28e17f72");

    // A body that fails mid-way: error, no object, no event, no blob left.
    let failing = common::body(vec![vec![7; 1000]], true);
    let result = service
        .put_object("plain", "broken", failing, PutObjectOptions::default())
        .await;
    assert!(matches!(result, Err(ObjectError::Blob(_))), "{result:?}");
    assert!(matches!(
        read(service, "plain", "broken", None).await,
        Err(ObjectError::NoSuchKey { .. })
    ));

    // A body shorter than its declared length is refused the same way.
    let options = PutObjectOptions {
        content_length: Some(10),
        ..Default::default()
    };
    let short = service
        .put_object(
            "plain",
            "short",
            common::body(vec![b"abc".to_vec()], false),
            options,
        )
        .await;
    assert!(
        matches!(
            short,
            Err(ObjectError::IncompleteBody {
                expected: 10,
                received: 3
            })
        ),
        "{short:?}"
    );

    // Unknown bucket and bad keys fail before anything is written.
    let unknown = service
        .put_object(
            "nope-bucket",
            "k",
            common::body(vec![], false),
            PutObjectOptions::default(),
        )
        .await;
    assert!(matches!(unknown, Err(ObjectError::NoSuchBucket { .. })));
    for bad in ["../escape", "a/../../b", "nul\0key"] {
        let result = service
            .put_object(
                "plain",
                bad,
                common::body(vec![], false),
                PutObjectOptions::default(),
            )
            .await;
        assert!(
            matches!(result, Err(ObjectError::InvalidKey { .. })),
            "{bad:?}: {result:?}"
        );
    }

    let events = service.take_pending_events(100).await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    let record = &events[0].to_s3_event_json()["Records"][0];
    assert_eq!(record["eventName"], "ObjectCreated:Put");
    assert_eq!(record["s3"]["object"]["key"], "in+box/a%2Bb+%C3%BC.csv");
    assert_eq!(record["s3"]["object"]["size"], 3);
    assert_eq!(
        record["s3"]["object"]["eTag"],
        "900150983cd24fb0d6963f7d28e17f72"
    );

    // At-least-once relay: pending until marked, then gone.
    assert_eq!(service.take_pending_events(100).await.unwrap().len(), 1);
    service.mark_delivered(&[events[0].id]).await.unwrap();
    assert!(service.take_pending_events(100).await.unwrap().is_empty());

    // Exactly one blob on disk (the committed object), nothing in staging.
    let blobs = common::files_under(&endpoint.data_dir.path().join("objects"));
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    endpoint.stop().await;
}

#[tokio::test]
async fn overwrites_and_deletes_free_blobs_and_record_removals() {
    let endpoint = common::start(&[("plain", false)]).await;
    let service = &endpoint.service;
    put(service, "plain", "k", b"one").await;
    put(service, "plain", "k", b"two").await;
    assert_eq!(read(service, "plain", "k", None).await.unwrap(), b"two");
    assert_eq!(
        common::files_under(&endpoint.data_dir.path().join("objects")).len(),
        1
    );
    service.delete_object("plain", "k", None).await.unwrap();
    assert!(common::files_under(&endpoint.data_dir.path().join("objects")).is_empty());
    let names: Vec<_> = common::pending_events(service)
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(
        names,
        [
            "ObjectCreated:Put",
            "ObjectCreated:Put",
            "ObjectRemoved:Delete"
        ]
    );
    endpoint.stop().await;
}

#[tokio::test]
async fn a_relay_is_woken_by_commits() {
    let endpoint = common::start(&[("plain", false)]).await;
    let signal = endpoint.service.outbox_signal();
    // Drain the permit left by declaring the bucket.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(1), signal.notified()).await;
    put(&endpoint.service, "plain", "k", b"x").await;
    tokio::time::timeout(std::time::Duration::from_secs(5), signal.notified())
        .await
        .expect("woken by the commit");
    assert_eq!(
        endpoint
            .service
            .take_pending_events(10)
            .await
            .unwrap()
            .len(),
        1
    );
    endpoint.stop().await;
}

#[tokio::test]
async fn reopening_sweeps_blobs_a_crash_left_unreferenced() {
    let data_dir = tempfile::tempdir().unwrap();
    {
        let service = ObjectService::open(data_dir.path()).await.unwrap();
        service.create_buckets(&[("plain", false)]).await.unwrap();
        put(&service, "plain", "kept", b"committed").await;
        // A blob written but never committed, as a crash before the catalog
        // transaction would leave it.
        let blobs = sluice_objects::LocalBlobStore::open(data_dir.path().join("objects"))
            .await
            .unwrap();
        use sluice_objects::BlobStore;
        blobs
            .write(common::body(vec![b"orphan".to_vec()], false))
            .await
            .unwrap();
        assert_eq!(
            common::files_under(&data_dir.path().join("objects")).len(),
            2
        );
    }
    let service = ObjectService::open(data_dir.path()).await.unwrap();
    assert_eq!(
        common::files_under(&data_dir.path().join("objects")).len(),
        1
    );
    assert_eq!(
        read(&service, "plain", "kept", None).await.unwrap(),
        b"committed"
    );
}
