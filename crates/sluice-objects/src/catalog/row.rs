//! Reading version rows back into [`ObjectVersion`]s: one column list and one
//! mapping, shared by every query that returns versions.

use super::types::{ObjectVersion, Segment};
use rusqlite::Row;

/// The columns every version query selects, in [`version_from_row`]'s order.
/// `v` is the `versions` table alias; `is_latest` is computed, not stored.
pub(super) const VERSION_COLUMNS: &str = "v.bucket, v.key, v.version_id, v.is_delete_marker, v.size, v.etag, \
     v.content_type, v.user_metadata, v.segments, v.parts_count, v.last_modified_ms, \
     (v.seq = (SELECT max(seq) FROM versions l WHERE l.bucket = v.bucket AND l.key = v.key)), v.seq";

pub(super) fn version_from_row(row: &Row<'_>) -> rusqlite::Result<(ObjectVersion, i64)> {
    let metadata: String = row.get(7)?;
    let segments: String = row.get(8)?;
    let version = ObjectVersion {
        bucket: row.get(0)?,
        key: row.get(1)?,
        version_id: row.get(2)?,
        is_delete_marker: row.get(3)?,
        size: row.get::<_, i64>(4)? as u64,
        etag: row.get(5)?,
        content_type: row.get(6)?,
        user_metadata: serde_json::from_str(&metadata).unwrap_or_default(),
        segments: parse_segments(&segments)?,
        parts_count: row.get(9)?,
        last_modified_ms: row.get(10)?,
        is_latest: row.get(11)?,
    };
    Ok((version, row.get(12)?))
}

fn parse_segments(text: &str) -> rusqlite::Result<Vec<Segment>> {
    // BlobId deserializes without validation; re-validate so a corrupted row
    // can never turn into a path outside the blob directory.
    let segments: Vec<Segment> = serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(8, rusqlite::types::Type::Text, Box::new(e))
    })?;
    for segment in &segments {
        crate::blob::BlobId::parse(segment.blob.as_str()).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(8, rusqlite::types::Type::Text, Box::new(e))
        })?;
    }
    Ok(segments)
}
