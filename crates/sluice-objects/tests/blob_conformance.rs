//! The `BlobStore` conformance suite, run against every backend: the local
//! directory, and `object_store`'s S3 backend pointed at Sluice's own S3
//! endpoint (the only S3-compatible server on this machine).

mod common;

use sluice_objects::{
    BlobError, BlobId, BlobStore, LocalBlobStore, RemoteBlobStore, RemoteLocation,
};
use std::sync::Arc;

async fn conformance(store: Arc<dyn BlobStore>) {
    // Round trip, size and MD5 computed while streaming.
    let written = store
        .write(common::body(
            vec![b"hello ".to_vec(), b"world".to_vec()],
            false,
        ))
        .await
        .unwrap();
    assert_eq!(written.size, 11);
    assert_eq!(hex(&written.md5), "5eb63bbbe01eeed093cb22bb8f5acdc3");
    assert_eq!(
        common::collect(store.read(&written.id, 0..11).await.unwrap()).await,
        b"hello world"
    );
    assert_eq!(
        common::collect(store.read(&written.id, 6..11).await.unwrap()).await,
        b"world"
    );
    assert_eq!(
        common::collect(store.read(&written.id, 3..3).await.unwrap()).await,
        b""
    );

    // Empty blobs exist.
    let empty = store.write(common::body(vec![], false)).await.unwrap();
    assert_eq!(
        (empty.size, hex(&empty.md5).as_str()),
        (0, "d41d8cd98f00b204e9800998ecf8427e")
    );

    // A multi-megabyte blob streams through in chunks.
    let big: Vec<Vec<u8>> = (0..12u8).map(|i| vec![i; 1024 * 1024]).collect();
    let big_written = store.write(common::body(big.clone(), false)).await.unwrap();
    assert_eq!(big_written.size, 12 * 1024 * 1024);
    let tail = common::collect(
        store
            .read(&big_written.id, 11 * 1024 * 1024 - 1..11 * 1024 * 1024 + 1)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(tail, vec![10, 11]);

    // A failing body is an error and leaves no blob behind.
    let failed = store
        .write(common::body(vec![b"partial".to_vec()], true))
        .await;
    assert!(
        matches!(failed, Err(BlobError::Body { received: 7, .. })),
        "{failed:?}"
    );

    // Copies are independent blobs.
    let copy = store.copy(&written.id).await.unwrap();
    assert_ne!(copy, written.id);
    store.delete(&written.id).await.unwrap();
    assert_eq!(
        common::collect(store.read(&copy, 0..5).await.unwrap()).await,
        b"hello"
    );

    // Deleted and unknown blobs are NotFound; deleting twice is fine.
    assert!(matches!(
        store.read(&written.id, 0..1).await,
        Err(BlobError::NotFound { .. })
    ));
    store.delete(&written.id).await.unwrap();
    let unknown = BlobId::generate();
    assert!(matches!(
        store.read(&unknown, 0..1).await,
        Err(BlobError::NotFound { .. })
    ));
    for id in [copy, empty.id, big_written.id] {
        store.delete(&id).await.unwrap();
    }
}

fn hex(bytes: &[u8; 16]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn local_directory_backend() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::open(dir.path().join("objects"))
        .await
        .unwrap();
    conformance(Arc::new(store)).await;
    // Nothing left: not in blobs (all deleted), not in staging (failed write cleaned up).
    assert_eq!(
        common::files_under(dir.path()),
        Vec::<std::path::PathBuf>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_backend_against_sluice_endpoint() {
    let endpoint = common::start(&[("backing", false)]).await;
    let location = RemoteLocation {
        bucket: "backing".into(),
        endpoint: Some(endpoint.url()),
        region: Some("us-east-1".into()),
        prefix: Some("tenant-a".into()),
        access_key_id: Some(common::ACCESS_KEY_ID.into()),
        secret_access_key: Some(common::SECRET_ACCESS_KEY.into()),
    };
    conformance(Arc::new(RemoteBlobStore::connect(&location).unwrap())).await;
    // Every blob was deleted and the failed write's upload aborted: the backing bucket is empty.
    let query = sluice_objects::ListObjectsQuery {
        max_keys: 1000,
        ..Default::default()
    };
    let listing = endpoint
        .service
        .list_objects("backing", query)
        .await
        .unwrap();
    assert!(listing.objects.is_empty(), "{:?}", listing.objects);
    endpoint.stop().await;
}

#[test]
fn blob_ids_cannot_be_paths() {
    for bad in [
        "../../etc/passwd",
        "",
        "0123456789abcdef0123456789abcdeg",
        "0123456789ABCDEF0123456789ABCDEF",
    ] {
        assert!(BlobId::parse(bad).is_err(), "{bad}");
    }
    assert!(BlobId::parse(BlobId::generate().as_str()).is_ok());
}
