//! Buckets: object storage with versioning and durable S3-style object events.
//!
//! This crate is the storage half of Sluice's buckets. It knows nothing of
//! the engine, queues or handlers; the binary wires it into `sluice up` and the
//! engine relays its event outbox to targets.
//!
//! # The pieces
//!
//! * [`Catalog`] — object metadata in its own SQLite file (`DATA_DIR/objects.db`):
//!   buckets and their versioning state, object versions, delete markers,
//!   multipart uploads and parts, and the **event outbox**.
//! * [`BlobStore`] — where object bytes live: [`LocalBlobStore`] (a directory
//!   under the data directory) or [`RemoteBlobStore`] (any S3-compatible service
//!   through the `object_store` crate). Blobs are named by random ids, never by
//!   object keys, so no key can name a path outside the data directory.
//! * [`ObjectService`] — the domain operations (put, get, copy, move, delete,
//!   list, multipart) over catalog + blobs; no HTTP.
//! * [`serve_s3`] — the S3 protocol edge (the `s3s` crate, SigV4 auth), the
//!   only place where [`ObjectError`]s become S3 error codes.
//!
//! # The commit rule
//!
//! Writing an object streams its bytes into a fresh blob (fsynced), then runs
//! ONE catalog transaction that inserts the version row and its outbox events.
//! A blob is reachable only through a committed row, so readers never see a
//! partial object, and an event exists if and only if its object committed.
//! Blobs that a transaction makes unreachable (overwrites, aborted uploads) are
//! recorded as garbage in the same transaction and deleted after commit.

mod blob;
mod catalog;
mod error;
mod etag;
mod event;
mod names;
mod s3;
mod scratch;
mod service;

pub use blob::{
    BlobError, BlobId, BlobStore, ByteStream, LocalBlobStore, RemoteBlobStore, RemoteLocation,
    WrittenBlob,
};
pub use catalog::{
    BucketInfo, Catalog, CompletedPart, DeleteOutcome, ListObjectsQuery, ListVersionsQuery,
    ObjectListing, ObjectVersion, PartInfo, Segment, UploadInfo, VersionListing, VersioningState,
    NULL_VERSION_ID,
};
pub use error::{ObjectError, ObjectResult};
pub use event::{ObjectEvent, S3_EVENT_VERSION};
pub use s3::{serve_s3, AccessKey, S3Credentials, CREDENTIALS_FILE};
pub use scratch::ScratchFile;
pub use service::{
    ByteRange, Conditions, GetObjectOptions, ObjectBody, ObjectService, PutObjectOptions,
};
