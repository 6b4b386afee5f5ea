//! [`ObjectService`]: the domain operations on buckets and objects, over the
//! [`Catalog`] and one [`BlobStore`] per bucket. No HTTP here: the S3 edge and
//! built-in steps both call these methods.

mod read;
mod write;

pub use read::{ByteRange, Conditions, GetObjectOptions, ObjectBody};
pub use write::PutObjectOptions;

use crate::blob::BlobError;
use crate::blob::{BlobStore, LocalBlobStore, RemoteBlobStore, RemoteLocation};
use crate::catalog::{Catalog, VersioningState};
use crate::error::ObjectResult;
use crate::event::ObjectEvent;
use crate::scratch::ScratchFile;
use sluice_spec::{Bucket, Storage};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

/// Expands `${env:NAME}` references of a storage secret.
fn resolve_secret(
    bucket: &str,
    secret: Option<&sluice_spec::SecretString>,
) -> ObjectResult<Option<String>> {
    let Some(secret) = secret else {
        return Ok(None);
    };
    let resolved = secret.resolve(|name| std::env::var(name).ok());
    resolved
        .map(Some)
        .map_err(|reason| crate::ObjectError::StorageConfig {
            bucket: bucket.to_string(),
            reason,
        })
}

/// Garbage blobs deleted per pass.
const GARBAGE_BATCH: usize = 256;

/// Buckets and objects: catalog + blob stores.
#[derive(Clone, Debug)]
pub struct ObjectService {
    catalog: Catalog,
    /// The default backend: `DATA_DIR/objects/`.
    local: Arc<dyn BlobStore>,
    /// Buckets stored elsewhere (`storage: {s3: ...}`).
    remote: Arc<RwLock<HashMap<String, Arc<dyn BlobStore>>>>,
    region: String,
    /// `DATA_DIR/objects/scratch`: files being prepared to become objects.
    scratch: PathBuf,
}

impl ObjectService {
    /// Opens `DATA_DIR/objects.db` and `DATA_DIR/objects/`, then deletes
    /// blobs a previous run left unreachable: garbage recorded by committed
    /// transactions, and local blobs no row names (a crash between writing a
    /// blob and committing its row). Call before serving, once per data
    /// directory: the sweep assumes no write is in flight.
    ///
    /// Gap: blobs orphaned in a *remote* (`storage: {s3: ...}`) backend by
    /// such a crash are not swept yet.
    pub async fn open(data_dir: &Path) -> ObjectResult<ObjectService> {
        let catalog = Catalog::open(&data_dir.join("objects.db"))?;
        let local = LocalBlobStore::open(data_dir.join("objects")).await?;
        // Scratch files are deleted when dropped; remove those a crash left.
        let scratch = data_dir.join("objects").join("scratch");
        let _ = tokio::fs::remove_dir_all(&scratch).await;
        tokio::fs::create_dir_all(&scratch)
            .await
            .map_err(|source| BlobError::Io {
                backend: format!("scratch directory {}", scratch.display()),
                source,
            })?;
        local
            .sweep_unreferenced(&catalog.referenced_blobs().await?)
            .await?;
        let service = ObjectService {
            catalog,
            local: Arc::new(local),
            remote: Arc::default(),
            region: crate::event::DEFAULT_REGION.to_string(),
            scratch,
        };
        service.collect_garbage().await;
        Ok(service)
    }

    /// The catalog (for relaying the outbox, or inspection in tests).
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// A new file on the data directory's disk, deleted when dropped unless
    /// [`ObjectService::put_file`] stores it.
    pub fn scratch_file(&self) -> std::io::Result<ScratchFile> {
        ScratchFile::new_in(&self.scratch)
    }

    /// The region reported in events and by GetBucketLocation.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Creates the buckets `sluice up` declares: `(name, versioning)`.
    /// Existing buckets keep their objects; versioning follows the flag
    /// (turning it off suspends a versioned bucket, as S3 does).
    pub async fn create_buckets(&self, buckets: &[(&str, bool)]) -> ObjectResult<()> {
        for (name, versioning) in buckets {
            self.catalog.create_bucket(name).await?;
            self.catalog.set_versioning(name, *versioning).await?;
        }
        Ok(())
    }

    /// Applies a bucket's whole declaration: creates it, sets versioning,
    /// installs its notification rules and picks its storage backend.
    /// Secrets in `storage` must already be resolved (`${env:...}` expanded).
    pub async fn declare_bucket(&self, name: &str, bucket: &Bucket) -> ObjectResult<()> {
        self.create_buckets(&[(name, bucket.versioning)]).await?;
        self.catalog
            .set_notification_rules(name, bucket.notifications.clone());
        if let Storage::S3(s3) = &bucket.storage {
            let location = RemoteLocation {
                bucket: s3.bucket.clone(),
                endpoint: s3.endpoint.clone(),
                region: s3.region.clone(),
                prefix: s3.prefix.clone(),
                access_key_id: resolve_secret(name, s3.access_key_id.as_ref())?,
                secret_access_key: resolve_secret(name, s3.secret_access_key.as_ref())?,
            };
            self.use_blob_store(name, Arc::new(RemoteBlobStore::connect(&location)?));
        }
        Ok(())
    }

    /// Stores `bucket`'s blobs in `store` instead of the local directory.
    pub fn use_blob_store(&self, bucket: &str, store: Arc<dyn BlobStore>) {
        let mut remote = self.remote.write().unwrap_or_else(PoisonError::into_inner);
        remote.insert(bucket.to_string(), store);
    }

    pub(crate) fn blobs_for(&self, bucket: &str) -> Arc<dyn BlobStore> {
        let remote = self.remote.read().unwrap_or_else(PoisonError::into_inner);
        remote
            .get(bucket)
            .cloned()
            .unwrap_or_else(|| Arc::clone(&self.local))
    }

    pub async fn versioning(&self, bucket: &str) -> ObjectResult<VersioningState> {
        self.catalog.versioning(bucket).await
    }

    /// Up to `limit` undelivered object events, oldest first.
    pub async fn take_pending_events(&self, limit: usize) -> ObjectResult<Vec<ObjectEvent>> {
        let mut events = self.catalog.take_pending_events(limit).await?;
        for event in &mut events {
            event.aws_region = self.region.clone();
        }
        Ok(events)
    }

    /// Signalled after every committed catalog write; see [`Catalog::outbox_signal`].
    pub fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        self.catalog.outbox_signal()
    }

    /// Marks relayed events delivered (call after relaying: at-least-once).
    pub async fn mark_delivered(&self, ids: &[i64]) -> ObjectResult<()> {
        self.catalog.mark_delivered(ids).await
    }

    /// Deletes blobs that committed transactions made unreachable. Best
    /// effort: what fails stays listed and is retried on the next pass.
    pub async fn collect_garbage(&self) {
        loop {
            let garbage = match self.catalog.pending_garbage(GARBAGE_BATCH).await {
                Ok(garbage) if !garbage.is_empty() => garbage,
                Ok(_) => return,
                Err(error) => return tracing::warn!(%error, "cannot read the blob garbage list"),
            };
            let mut deleted = Vec::with_capacity(garbage.len());
            for (id, bucket, blob) in &garbage {
                match self.blobs_for(bucket).delete(blob).await {
                    Ok(()) => deleted.push(*id),
                    Err(error) => {
                        tracing::warn!(%error, bucket, %blob, "cannot delete an unreachable blob yet")
                    }
                }
            }
            let progressed = !deleted.is_empty();
            if let Err(error) = self.catalog.forget_garbage(deleted).await {
                return tracing::warn!(%error, "cannot update the blob garbage list");
            }
            if !progressed || garbage.len() < GARBAGE_BATCH {
                return;
            }
        }
    }
}
