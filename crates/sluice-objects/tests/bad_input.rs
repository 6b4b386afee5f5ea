//! Bad input and failing environments: a client that disconnects mid-upload,
//! a full disk. Either way: an error, no partial object, no event, no blob.

mod common;

use sluice_objects::{
    BlobError, BlobId, BlobStore, ByteStream, ObjectError, PutObjectOptions, WrittenBlob,
};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A backend whose disk is full: every write fails as ENOSPC would.
#[derive(Debug)]
struct FullDisk;

#[async_trait::async_trait]
impl BlobStore for FullDisk {
    async fn write(&self, _body: ByteStream) -> Result<WrittenBlob, BlobError> {
        Err(BlobError::StorageFull {
            backend: "a full test disk".into(),
        })
    }
    async fn read(&self, id: &BlobId, _range: Range<u64>) -> Result<ByteStream, BlobError> {
        Err(BlobError::NotFound {
            id: id.to_string(),
            backend: "a full test disk".into(),
        })
    }
    async fn copy(&self, _id: &BlobId) -> Result<BlobId, BlobError> {
        Err(BlobError::StorageFull {
            backend: "a full test disk".into(),
        })
    }
    async fn delete(&self, _id: &BlobId) -> Result<(), BlobError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_full_disk_stores_nothing_and_records_no_event() {
    let endpoint = common::start(&[("full", false)]).await;
    endpoint.service.use_blob_store("full", Arc::new(FullDisk));
    let body = common::body(vec![b"data".to_vec()], false);
    let result = endpoint
        .service
        .put_object("full", "k", body, PutObjectOptions::default())
        .await;
    assert!(
        matches!(
            result,
            Err(ObjectError::Blob(BlobError::StorageFull { .. }))
        ),
        "{result:?}"
    );
    assert!(endpoint
        .service
        .head_object("full", "k", &Default::default())
        .await
        .is_err());
    assert!(common::pending_events(&endpoint.service).await.is_empty());
    endpoint.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_mid_upload_leaves_nothing() {
    let endpoint = common::start(&[("plain", false)]).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/disconnect.py");
    let output = tokio::process::Command::new("python3")
        .arg(script)
        .args(["plain", "half uploaded.bin"])
        .env("S3_ENDPOINT", endpoint.url())
        .env("AWS_ACCESS_KEY_ID", common::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", common::SECRET_ACCESS_KEY)
        .env(
            "AWS_CONFIG_FILE",
            endpoint.data_dir.path().join("no-config"),
        )
        .output()
        .await
        .expect("run python3 (botocore is installed with boto3)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The server notices the reset asynchronously: poll the staging area
    // until the aborted write has been cleaned up (bounded, no fixed sleep).
    let staging = endpoint.data_dir.path().join("objects/staging");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !common::files_under(&staging).is_empty() {
        assert!(
            Instant::now() < deadline,
            "a staging file outlived the disconnected upload"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let head = endpoint
        .service
        .head_object("plain", "half uploaded.bin", &Default::default())
        .await;
    assert!(
        matches!(head, Err(ObjectError::NoSuchKey { .. })),
        "{head:?}"
    );
    assert!(common::pending_events(&endpoint.service).await.is_empty());
    assert!(common::files_under(&endpoint.data_dir.path().join("objects/blobs")).is_empty());
    endpoint.stop().await;
}
