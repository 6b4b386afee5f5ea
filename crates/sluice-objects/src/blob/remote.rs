//! Blobs in a bucket of an S3-compatible service, through the `object_store`
//! crate (its `aws` backend), under `PREFIX/blobs/<id>`.
//!
//! A write is a multipart upload: the service shows nothing under the blob's
//! name until the upload completes, which is this backend's staging area.
//! Parts are buffered [`PART_SIZE`] at a time with at most two in flight, so
//! memory stays bounded whatever the object size.

use super::{BlobError, BlobId, BlobStore, ByteStream, WrittenBlob};
use futures::{StreamExt, TryStreamExt};
use md5::{Digest, Md5};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};
use std::ops::Range;
use std::sync::Arc;

/// Size of the parts a blob is uploaded in (S3's minimum is 5 MiB).
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts uploaded concurrently per blob.
const PARTS_IN_FLIGHT: usize = 2;

/// Where a [`RemoteBlobStore`] keeps its blobs.
#[derive(Debug, Clone, Default)]
pub struct RemoteLocation {
    pub bucket: String,
    /// Endpoint URL for services other than AWS (`http://` is allowed).
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Key prefix under which blobs are stored (`PREFIX/blobs/<id>`).
    pub prefix: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

/// A [`BlobStore`] in an S3-compatible service.
#[derive(Debug, Clone)]
pub struct RemoteBlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    /// How the backend is named in errors.
    backend: String,
}

impl RemoteBlobStore {
    /// Connects lazily (no request is made here). Unset credentials and
    /// region are read from the standard `AWS_*` environment variables.
    pub fn connect(location: &RemoteLocation) -> Result<RemoteBlobStore, BlobError> {
        let backend = format!("S3 bucket {}", location.bucket);
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&location.bucket);
        if let Some(endpoint) = &location.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(region) = &location.region {
            builder = builder.with_region(region);
        }
        if let Some(key) = &location.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &location.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let store = builder.build().map_err(|source| BlobError::Remote {
            backend: backend.clone(),
            source,
        })?;
        let prefix = location
            .prefix
            .as_deref()
            .unwrap_or("")
            .trim_matches('/')
            .to_string();
        Ok(RemoteBlobStore {
            store: Arc::new(store),
            prefix,
            backend,
        })
    }

    fn path(&self, id: &BlobId) -> Path {
        match self.prefix.as_str() {
            "" => Path::from(format!("blobs/{id}")),
            prefix => Path::from(format!("{prefix}/blobs/{id}")),
        }
    }

    fn remote(&self, source: object_store::Error) -> BlobError {
        BlobError::Remote {
            backend: self.backend.clone(),
            source,
        }
    }

    fn not_found_or(&self, id: &BlobId, source: object_store::Error) -> BlobError {
        match source {
            object_store::Error::NotFound { .. } => BlobError::NotFound {
                id: id.to_string(),
                backend: self.backend.clone(),
            },
            other => self.remote(other),
        }
    }

    async fn upload(
        &self,
        writer: &mut WriteMultipart,
        mut body: ByteStream,
    ) -> Result<(u64, [u8; 16]), BlobError> {
        let mut hasher = Md5::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|source| BlobError::Body {
                received: size,
                source,
            })?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            writer
                .wait_for_capacity(PARTS_IN_FLIGHT)
                .await
                .map_err(|e| self.remote(e))?;
            writer.put(chunk);
        }
        Ok((size, hasher.finalize().into()))
    }
}

#[async_trait::async_trait]
impl BlobStore for RemoteBlobStore {
    async fn write(&self, body: ByteStream) -> Result<WrittenBlob, BlobError> {
        let id = BlobId::generate();
        let upload = self
            .store
            .put_multipart(&self.path(&id))
            .await
            .map_err(|e| self.remote(e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        match self.upload(&mut writer, body).await {
            Ok((size, md5)) => {
                writer.finish().await.map_err(|e| self.remote(e))?;
                Ok(WrittenBlob { id, size, md5 })
            }
            Err(error) => {
                let _ = writer.abort().await;
                Err(error)
            }
        }
    }

    async fn read(&self, id: &BlobId, range: Range<u64>) -> Result<ByteStream, BlobError> {
        if range.is_empty() {
            return Ok(Box::pin(futures::stream::empty()));
        }
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..GetOptions::default()
        };
        let result = self
            .store
            .get_opts(&self.path(id), options)
            .await
            .map_err(|e| self.not_found_or(id, e))?;
        Ok(Box::pin(
            result.into_stream().map_err(std::io::Error::other),
        ))
    }

    async fn copy(&self, id: &BlobId) -> Result<BlobId, BlobError> {
        let copy = BlobId::generate();
        self.store
            .copy(&self.path(id), &self.path(&copy))
            .await
            .map_err(|e| self.not_found_or(id, e))?;
        Ok(copy)
    }

    async fn delete(&self, id: &BlobId) -> Result<(), BlobError> {
        match self.store.delete(&self.path(id)).await {
            Err(e @ object_store::Error::NotFound { .. }) => {
                tracing::debug!(blob = %id, error = %e, "blob already gone");
                Ok(())
            }
            other => other.map_err(|e| self.remote(e)),
        }
    }
}
