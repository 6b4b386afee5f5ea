//! Test harness: a fresh data directory, an [`ObjectService`] with buckets
//! whose notification rules catch every event, and the S3 endpoint served
//! in-process on 127.0.0.1:0 — the real server, reached over TCP.
#![allow(dead_code)]

use sluice_objects::{serve_s3, AccessKey, ObjectService, S3Credentials};
use sluice_spec::{Bucket, Notification, Target};
use std::net::SocketAddr;

pub const ACCESS_KEY_ID: &str = "SLKTESTACCESSKEY0001";
pub const SECRET_ACCESS_KEY: &str = "test-secret-access-key-0123456789abcdefgh";

pub struct TestEndpoint {
    pub data_dir: tempfile::TempDir,
    pub service: ObjectService,
    pub address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestEndpoint {
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server ends cleanly");
        }
    }
}

/// A notification rule that sends every event to function `relay`.
pub fn catch_all_rule() -> Notification {
    Notification {
        events: vec!["s3:ObjectCreated:*".into(), "s3:ObjectRemoved:*".into()],
        prefix: None,
        suffix: None,
        target: Target {
            function: Some("relay".into()),
            ..Target::default()
        },
    }
}

/// Starts an endpoint with buckets `(name, versioning)`, each with [`catch_all_rule`].
pub async fn start(buckets: &[(&str, bool)]) -> TestEndpoint {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let service = ObjectService::open(data_dir.path())
        .await
        .expect("open object service");
    for (name, versioning) in buckets {
        let declaration = Bucket {
            versioning: *versioning,
            notifications: vec![catch_all_rule()],
            ..Bucket::default()
        };
        service
            .declare_bucket(name, &declaration)
            .await
            .expect("declare bucket");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let credentials = S3Credentials::from_keys(vec![AccessKey {
        access_key_id: ACCESS_KEY_ID.into(),
        secret_access_key: SECRET_ACCESS_KEY.into(),
    }]);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_s3(
        listener,
        service.clone(),
        credentials,
        async move {
            let _ = stopped.await;
        },
    ));
    TestEndpoint {
        data_dir,
        service,
        address,
        stop: Some(stop),
        server: Some(server),
    }
}

/// Every pending outbox event as `(event_name, bucket, key)`.
pub async fn pending_events(service: &ObjectService) -> Vec<(String, String, String)> {
    let events = service
        .take_pending_events(100_000)
        .await
        .expect("read outbox");
    events
        .into_iter()
        .map(|e| (e.event_name, e.bucket, e.key))
        .collect()
}

/// A body stream from chunks; `fail_after` makes it end with an I/O error,
/// like a client that disconnects mid-upload.
pub fn body(chunks: Vec<Vec<u8>>, fail: bool) -> sluice_objects::ByteStream {
    let mut items: Vec<Result<bytes::Bytes, std::io::Error>> =
        chunks.into_iter().map(|c| Ok(c.into())).collect();
    if fail {
        items.push(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )));
    }
    Box::pin(futures::stream::iter(items))
}

/// All bytes of a stream.
pub async fn collect(stream: sluice_objects::ByteStream) -> Vec<u8> {
    use futures::TryStreamExt;
    let chunks: Vec<bytes::Bytes> = stream.try_collect().await.expect("read stream");
    chunks.concat()
}

/// Files below `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// Stores `bytes` at `bucket`/`key` with default options.
pub async fn put(
    service: &sluice_objects::ObjectService,
    bucket: &str,
    key: &str,
    bytes: &[u8],
) -> sluice_objects::ObjectVersion {
    let body = body(vec![bytes.to_vec()], false);
    service
        .put_object(
            bucket,
            key,
            body,
            sluice_objects::PutObjectOptions::default(),
        )
        .await
        .unwrap()
}

/// Reads an object (a given version, or the latest) whole.
pub async fn read(
    service: &sluice_objects::ObjectService,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<Vec<u8>, sluice_objects::ObjectError> {
    let options = sluice_objects::GetObjectOptions {
        version_id: version_id.map(str::to_string),
        ..Default::default()
    };
    let object = service.get_object(bucket, key, &options).await?;
    Ok(collect(object.bytes).await)
}
