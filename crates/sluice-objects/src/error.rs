//! The one error type callers of this crate see, saying what went wrong with
//! which bucket/key. S3 error codes are assigned only at the protocol edge
//! (`s3::errors`), so the domain stays free of HTTP.

use crate::blob::BlobError;

/// Result of an object operation.
pub type ObjectResult<T> = Result<T, ObjectError>;

/// Why an object operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("bucket `{bucket}` does not exist; declare it under `buckets:` in sluice.yaml")]
    NoSuchBucket { bucket: String },
    #[error("bucket name `{bucket}` is invalid: {reason}")]
    InvalidBucketName {
        bucket: String,
        reason: &'static str,
    },
    #[error("bucket `{bucket}` is not empty")]
    BucketNotEmpty { bucket: String },
    #[error("no object `{key}` in bucket `{bucket}`")]
    NoSuchKey { bucket: String, key: String },
    #[error("no version `{version_id}` of `{key}` in bucket `{bucket}`")]
    NoSuchVersion {
        bucket: String,
        key: String,
        version_id: String,
    },
    /// The addressed version is a delete marker (S3 answers 405 / 404 with a marker header).
    #[error("`{key}` in bucket `{bucket}` is a delete marker (version `{version_id}`)")]
    DeleteMarker {
        bucket: String,
        key: String,
        version_id: String,
        addressed_by_version: bool,
    },
    #[error("object key {key:?} is invalid: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    #[error("multipart upload `{upload_id}` does not exist (completed, aborted or never created)")]
    NoSuchUpload { upload_id: String },
    #[error("part {part_number} of upload `{upload_id}` is missing or its ETag does not match")]
    InvalidPart { upload_id: String, part_number: i32 },
    #[error("the parts of a multipart upload must be listed in ascending order")]
    InvalidPartOrder,
    #[error(
        "part {part_number} is {size} bytes; every part but the last must be at least {minimum}"
    )]
    EntityTooSmall {
        part_number: i32,
        size: u64,
        minimum: u64,
    },
    #[error("part number {part_number} is out of range 1..=10000")]
    InvalidPartNumber { part_number: i32 },
    #[error("a precondition (If-Match / If-Unmodified-Since) failed for `{key}`")]
    PreconditionFailed { key: String },
    #[error("`{key}` was not modified")]
    NotModified { key: String },
    #[error("the requested range is not satisfiable for an object of {size} bytes")]
    InvalidRange { size: u64 },
    #[error("the body ended after {received} of {expected} bytes; the object was not stored")]
    IncompleteBody { expected: u64, received: u64 },
    #[error("Content-MD5 does not match the body; the object was not stored")]
    BadDigest,
    #[error("the storage of bucket `{bucket}` is misconfigured: {reason}")]
    StorageConfig { bucket: String, reason: String },
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("object catalog: {0}")]
    Catalog(#[from] rusqlite::Error),
    #[error("object catalog `{location}` is unusable: {reason}")]
    CatalogUnusable { location: String, reason: String },
}
