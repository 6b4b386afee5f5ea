//! Blobs as files under a directory of the data directory:
//! `ROOT/blobs/ab/<id>` (two-hex-digit fan-out keeps directories small) and
//! `ROOT/staging/<id>` while a body is being written.
//!
//! A write goes to the staging file, is fsynced, then renamed into place and
//! the directory fsynced: a crash leaves at worst a staging file, which
//! [`LocalBlobStore::open`] removes. A synced file on the same filesystem
//! (a scratch file) is adopted the same way, by rename, without a copy.
//! Paths are built only from [`BlobId`]s.

use super::{BlobError, BlobId, BlobStore, ByteStream, WrittenBlob};
use futures::{StreamExt, TryStreamExt};
use md5::{Digest, Md5};
use std::collections::HashSet;
use std::io::{ErrorKind, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// Read chunk size: bounds memory per download.
const READ_CHUNK: usize = 256 * 1024;

/// A [`BlobStore`] on the local disk.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    /// Uses (creating it if needed) `root`, and removes staging files a crash left.
    pub async fn open(root: impl Into<PathBuf>) -> Result<LocalBlobStore, BlobError> {
        let store = LocalBlobStore { root: root.into() };
        let staging = store.root.join("staging");
        let _ = tokio::fs::remove_dir_all(&staging).await;
        tokio::fs::create_dir_all(&staging)
            .await
            .map_err(|e| store.io(e))?;
        tokio::fs::create_dir_all(store.root.join("blobs"))
            .await
            .map_err(|e| store.io(e))?;
        Ok(store)
    }

    /// Deletes every blob not in `referenced`: blobs a crash left between
    /// writing a blob and committing its catalog row. Call only when no write
    /// is in flight (at startup, before serving). Returns how many were deleted.
    pub async fn sweep_unreferenced(
        &self,
        referenced: &HashSet<BlobId>,
    ) -> Result<usize, BlobError> {
        let mut deleted = 0;
        let mut fan_out = tokio::fs::read_dir(self.root.join("blobs"))
            .await
            .map_err(|e| self.io(e))?;
        while let Some(directory) = fan_out.next_entry().await.map_err(|e| self.io(e))? {
            let mut files = tokio::fs::read_dir(directory.path())
                .await
                .map_err(|e| self.io(e))?;
            while let Some(file) = files.next_entry().await.map_err(|e| self.io(e))? {
                let name = file.file_name();
                let known = name
                    .to_str()
                    .and_then(|n| BlobId::parse(n).ok())
                    .is_some_and(|id| referenced.contains(&id));
                if !known {
                    tracing::info!(blob = ?name, "deleting a blob no object refers to (left by a crash)");
                    tokio::fs::remove_file(file.path())
                        .await
                        .map_err(|e| self.io(e))?;
                    deleted += 1;
                }
            }
        }
        Ok(deleted)
    }

    fn blob_path(&self, id: &BlobId) -> PathBuf {
        self.root
            .join("blobs")
            .join(&id.as_str()[30..])
            .join(id.as_str())
    }

    fn io(&self, source: std::io::Error) -> BlobError {
        let backend = format!("local directory {}", self.root.display());
        if source.kind() == ErrorKind::StorageFull || source.raw_os_error() == Some(28) {
            return BlobError::StorageFull { backend };
        }
        BlobError::Io { backend, source }
    }

    fn not_found_or(&self, id: &BlobId, source: std::io::Error) -> BlobError {
        if source.kind() == ErrorKind::NotFound {
            return BlobError::NotFound {
                id: id.to_string(),
                backend: format!("local directory {}", self.root.display()),
            };
        }
        self.io(source)
    }

    /// Streams `body` into `file`, hashing as it goes.
    async fn fill(
        &self,
        file: &mut tokio::fs::File,
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
            file.write_all(&chunk).await.map_err(|e| self.io(e))?;
            size += chunk.len() as u64;
        }
        file.sync_all().await.map_err(|e| self.io(e))?;
        Ok((size, hasher.finalize().into()))
    }

    async fn publish(&self, staged: &Path, id: &BlobId) -> Result<(), BlobError> {
        self.rename_into_place(staged, id)
            .await
            .map_err(|e| self.io(e))
    }

    /// Renames a synced file to blob `id`, then syncs the directory so the
    /// rename itself is durable.
    async fn rename_into_place(&self, staged: &Path, id: &BlobId) -> std::io::Result<()> {
        let target = self.blob_path(id);
        let dir = target
            .parent()
            .expect("blob paths have a fan-out directory");
        tokio::fs::create_dir_all(dir).await?;
        tokio::fs::rename(staged, &target).await?;
        tokio::fs::File::open(dir).await?.sync_all().await
    }
}

#[async_trait::async_trait]
impl BlobStore for LocalBlobStore {
    async fn write(&self, body: ByteStream) -> Result<WrittenBlob, BlobError> {
        let id = BlobId::generate();
        let staged = self.root.join("staging").join(id.as_str());
        let mut file = tokio::fs::File::create(&staged)
            .await
            .map_err(|e| self.io(e))?;
        let filled = self.fill(&mut file, body).await;
        drop(file);
        let result = match filled {
            Ok((size, md5)) => {
                self.publish(&staged, &id)
                    .await
                    .map(|()| WrittenBlob { id, size, md5 })
            }
            Err(error) => Err(error),
        };
        if result.is_err() {
            let _ = tokio::fs::remove_file(&staged).await;
        }
        result
    }

    async fn adopt(
        &self,
        path: &Path,
        size: u64,
        md5: [u8; 16],
    ) -> Result<Option<WrittenBlob>, BlobError> {
        let id = BlobId::generate();
        match self.rename_into_place(path, &id).await {
            Ok(()) => Ok(Some(WrittenBlob { id, size, md5 })),
            // On another filesystem: the caller copies the file instead.
            Err(e) if e.kind() == ErrorKind::CrossesDevices => Ok(None),
            Err(e) => Err(self.io(e)),
        }
    }

    async fn read(&self, id: &BlobId, range: Range<u64>) -> Result<ByteStream, BlobError> {
        let mut file = tokio::fs::File::open(self.blob_path(id))
            .await
            .map_err(|e| self.not_found_or(id, e))?;
        file.seek(SeekFrom::Start(range.start))
            .await
            .map_err(|e| self.io(e))?;
        let limited = file.take(range.end.saturating_sub(range.start));
        let stream = tokio_util::io::ReaderStream::with_capacity(limited, READ_CHUNK);
        Ok(Box::pin(stream.map_err(|e| e)))
    }

    async fn copy(&self, id: &BlobId) -> Result<BlobId, BlobError> {
        let source = tokio::fs::File::open(self.blob_path(id))
            .await
            .map_err(|e| self.not_found_or(id, e))?;
        let stream = tokio_util::io::ReaderStream::with_capacity(source, READ_CHUNK);
        Ok(self.write(Box::pin(stream)).await?.id)
    }

    async fn delete(&self, id: &BlobId) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.blob_path(id)).await {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(self.io(e)),
            _ => Ok(()),
        }
    }
}
