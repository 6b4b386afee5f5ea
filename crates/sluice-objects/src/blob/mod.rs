//! The seam between object metadata and object bytes: a [`BlobStore`] keeps
//! immutable blobs named by random [`BlobId`]s.
//!
//! Blobs are write-once: [`BlobStore::write`] streams a body into a blob that
//! becomes visible (to [`BlobStore::read`]) only when the whole body has been
//! written and made durable. Nothing else in Sluice knows which backend holds
//! a bucket's bytes; both implementations run the same conformance suite
//! (`tests/blob_conformance.rs`).

mod local;
mod remote;

pub use local::LocalBlobStore;
pub use remote::{RemoteBlobStore, RemoteLocation};

use bytes::Bytes;
use futures::Stream;
use std::fmt;
use std::ops::Range;
use std::pin::Pin;

/// A stream of body chunks. Errors are I/O errors (a client that disconnects
/// shows up here as an error, never as a short stream that looks complete).
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// The name of one blob: a UUIDv7 in simple (32 hex digit) form. Deliberately
/// unrelated to object keys so that no key can name a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct BlobId(String);

impl BlobId {
    /// A fresh, time-ordered id.
    pub fn generate() -> BlobId {
        BlobId(uuid::Uuid::now_v7().simple().to_string())
    }

    /// Parses an id read back from the catalog; refuses anything that is not
    /// 32 lowercase hex digits, so a corrupted row can never become a path.
    pub fn parse(text: &str) -> Result<BlobId, BlobError> {
        let valid = text.len() == 32
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if valid {
            Ok(BlobId(text.to_string()))
        } else {
            Err(BlobError::InvalidId {
                id: text.to_string(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What [`BlobStore::write`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenBlob {
    pub id: BlobId,
    pub size: u64,
    /// MD5 of the bytes, computed while streaming (S3 ETags are built from it).
    pub md5: [u8; 16],
}

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob `{id}` not found in {backend}")]
    NotFound { id: String, backend: String },
    #[error("the storage of {backend} is full; free space, then retry")]
    StorageFull { backend: String },
    #[error("the request body failed after {received} bytes: {source}")]
    Body {
        received: u64,
        source: std::io::Error,
    },
    #[error("{backend}: {source}")]
    Io {
        backend: String,
        source: std::io::Error,
    },
    #[error("{backend}: {source}")]
    Remote {
        backend: String,
        source: object_store::Error,
    },
    #[error("`{id}` is not a blob id")]
    InvalidId { id: String },
}

/// Immutable blobs in one backend.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug + 'static {
    /// Streams `body` into a new blob. Returns only after the bytes are
    /// durable; on any error (including a failing body) nothing stays behind.
    async fn write(&self, body: ByteStream) -> Result<WrittenBlob, BlobError>;

    /// Takes the finished, synced file at `path` (`size` bytes, digest `md5`)
    /// as a new blob by moving it, where the backend can: returns `None`,
    /// leaving the file alone, if it cannot (the caller then streams it with
    /// [`BlobStore::write`]). Returns only after the move is durable.
    async fn adopt(
        &self,
        path: &std::path::Path,
        size: u64,
        md5: [u8; 16],
    ) -> Result<Option<WrittenBlob>, BlobError> {
        let _ = (path, size, md5);
        Ok(None)
    }

    /// Streams bytes `range` (half-open, within the blob's size) of a blob.
    async fn read(&self, id: &BlobId, range: Range<u64>) -> Result<ByteStream, BlobError>;

    /// Copies a blob to a fresh id (server-side where the backend can).
    async fn copy(&self, id: &BlobId) -> Result<BlobId, BlobError>;

    /// Deletes a blob; deleting a missing blob succeeds (deletion is retried
    /// from the catalog's garbage list, so it must be idempotent).
    async fn delete(&self, id: &BlobId) -> Result<(), BlobError>;
}
