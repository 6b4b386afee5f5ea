//! Plain data the catalog stores and returns.

use crate::blob::BlobId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version id S3 gives objects written while versioning is off or suspended.
pub const NULL_VERSION_ID: &str = "null";

/// A bucket's versioning state, as S3 defines it. A bucket that was ever
/// versioned can be suspended but never return to unversioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersioningState {
    Unversioned,
    Enabled,
    Suspended,
}

impl VersioningState {
    pub fn as_str(self) -> &'static str {
        match self {
            VersioningState::Unversioned => "Unversioned",
            VersioningState::Enabled => "Enabled",
            VersioningState::Suspended => "Suspended",
        }
    }

    pub(crate) fn parse(text: &str) -> VersioningState {
        match text {
            "Enabled" => VersioningState::Enabled,
            "Suspended" => VersioningState::Suspended,
            _ => VersioningState::Unversioned,
        }
    }
}

/// One piece of an object's bytes: objects written in one PUT have one
/// segment, completed multipart uploads one per part (parts are never copied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub blob: BlobId,
    pub size: u64,
}

/// One version of an object, or a delete marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    pub bucket: String,
    pub key: String,
    /// `"null"` for versions written while versioning was off or suspended.
    pub version_id: String,
    pub is_latest: bool,
    pub is_delete_marker: bool,
    pub size: u64,
    /// Without quotes: `<md5 hex>` or `<hex>-<parts>`.
    pub etag: String,
    pub content_type: Option<String>,
    /// `x-amz-meta-*` headers, names lowercased without the prefix.
    pub user_metadata: BTreeMap<String, String>,
    pub segments: Vec<Segment>,
    pub parts_count: Option<u32>,
    pub last_modified_ms: i64,
}

/// A version about to be committed.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub content_type: Option<String>,
    pub user_metadata: BTreeMap<String, String>,
    pub segments: Vec<Segment>,
    pub parts_count: Option<u32>,
}

/// A part the client names when completing a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    pub part_number: i32,
    /// As sent by the client; quotes are ignored.
    pub etag: String,
}

/// An uploaded part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    pub part_number: i32,
    pub size: u64,
    pub etag: String,
    pub last_modified_ms: i64,
}

/// A multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadInfo {
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub content_type: Option<String>,
    pub user_metadata: BTreeMap<String, String>,
    pub initiated_ms: i64,
}

/// What a delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteOutcome {
    /// The version removed or the delete marker created (`None` when unversioned).
    pub version_id: Option<String>,
    /// Whether a delete marker was created or removed.
    pub delete_marker: bool,
}
