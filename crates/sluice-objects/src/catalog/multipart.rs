//! Multipart uploads: parts are blobs recorded against an upload; completing
//! the upload turns the listed parts into the segments of one new version (no
//! bytes are copied) and records the event, in one transaction. Parts that
//! were uploaded but not listed, and every part of an aborted upload, become
//! garbage.

use super::buckets::versioning_of;
use super::outbox::record_garbage;
use super::types::{CompletedPart, NewVersion, ObjectVersion, PartInfo, Segment, UploadInfo};
use super::versions::insert_version;
use super::{now_ms, Catalog};
use crate::blob::{BlobId, WrittenBlob};
use crate::error::{ObjectError, ObjectResult};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeMap;

/// S3's minimum size of every part but the last.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

impl Catalog {
    /// Starts an upload of `key`; returns its id.
    pub async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        content_type: Option<String>,
        user_metadata: BTreeMap<String, String>,
    ) -> ObjectResult<String> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.write(move |tx| {
            versioning_of(tx, &bucket)?;
            let upload_id = uuid::Uuid::now_v7().simple().to_string();
            tx.execute(
                "INSERT INTO uploads (upload_id, bucket, key, content_type, user_metadata, initiated_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![upload_id, bucket, key, content_type, serde_json::to_string(&user_metadata).expect("maps serialize"), now_ms()],
            )?;
            Ok(upload_id)
        })
        .await
    }

    /// The upload `upload_id` of `bucket`/`key`.
    pub async fn upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> ObjectResult<UploadInfo> {
        let (bucket, key, upload_id) = (bucket.to_string(), key.to_string(), upload_id.to_string());
        self.read(move |conn| find_upload(conn, &bucket, &key, &upload_id))
            .await
    }

    /// Records an uploaded part (replacing an earlier upload of the same number).
    pub async fn record_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: i32,
        blob: WrittenBlob,
    ) -> ObjectResult<String> {
        if !(1..=10_000).contains(&part_number) {
            return Err(ObjectError::InvalidPartNumber { part_number });
        }
        let (bucket, key, upload_id) = (bucket.to_string(), key.to_string(), upload_id.to_string());
        self.write(move |tx| {
            find_upload(tx, &bucket, &key, &upload_id)?;
            let replaced: Option<String> = tx
                .query_row(
                    "SELECT blob FROM parts WHERE upload_id = ?1 AND part_number = ?2",
                    params![upload_id, part_number],
                    |row| row.get(0),
                )
                .optional()?;
            let replaced: Vec<BlobId> = replaced.iter().filter_map(|b| BlobId::parse(b).ok()).collect();
            record_garbage(tx, &bucket, &replaced)?;
            let etag = crate::etag::single_part_etag(&blob.md5);
            tx.execute(
                "INSERT OR REPLACE INTO parts (upload_id, part_number, size, etag, blob, last_modified_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![upload_id, part_number, blob.size as i64, etag, blob.id.as_str(), now_ms()],
            )?;
            Ok(etag)
        })
        .await
    }

    /// The parts uploaded so far, by part number, after `after_part`.
    pub async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        after_part: i32,
        limit: usize,
    ) -> ObjectResult<Vec<PartInfo>> {
        let (bucket, key, upload_id) = (bucket.to_string(), key.to_string(), upload_id.to_string());
        self.read(move |conn| {
            find_upload(conn, &bucket, &key, &upload_id)?;
            Ok(parts_of(conn, &upload_id, after_part, limit)?
                .into_iter()
                .map(|(part, _)| part)
                .collect())
        })
        .await
    }

    /// Completes an upload into a new version of its key, in one transaction
    /// with the `ObjectCreated:CompleteMultipartUpload` event.
    pub async fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        listed: Vec<CompletedPart>,
    ) -> ObjectResult<ObjectVersion> {
        let rules = self.rules_of(bucket);
        let (bucket, key, upload_id) = (bucket.to_string(), key.to_string(), upload_id.to_string());
        self.write(move |tx| {
            let upload = find_upload(tx, &bucket, &key, &upload_id)?;
            let uploaded = parts_of(tx, &upload_id, 0, usize::MAX)?;
            let chosen = choose_parts(&upload_id, &listed, &uploaded)?;
            let etag = crate::etag::multipart_etag(chosen.iter().map(|(p, _)| p.etag.as_str()))
                .ok_or(ObjectError::InvalidPart {
                    upload_id: upload_id.clone(),
                    part_number: 0,
                })?;
            let unused = uploaded
                .iter()
                .filter(|(p, _)| !chosen.iter().any(|(c, _)| c.part_number == p.part_number));
            record_garbage(tx, &bucket, unused.map(|(_, blob)| blob))?;
            let version = NewVersion {
                bucket: bucket.clone(),
                key: key.clone(),
                size: chosen.iter().map(|(p, _)| p.size).sum(),
                etag,
                content_type: upload.content_type,
                user_metadata: upload.user_metadata,
                segments: chosen
                    .iter()
                    .map(|(p, blob)| Segment {
                        blob: blob.clone(),
                        size: p.size,
                    })
                    .collect(),
                parts_count: Some(chosen.len() as u32),
            };
            remove_upload_rows(tx, &upload_id)?;
            insert_version(tx, &rules, version, "ObjectCreated:CompleteMultipartUpload")
        })
        .await
    }

    /// Aborts an upload; its parts become garbage.
    pub async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> ObjectResult<()> {
        let (bucket, key, upload_id) = (bucket.to_string(), key.to_string(), upload_id.to_string());
        self.write(move |tx| {
            find_upload(tx, &bucket, &key, &upload_id)?;
            let parts = parts_of(tx, &upload_id, 0, usize::MAX)?;
            record_garbage(tx, &bucket, parts.iter().map(|(_, blob)| blob))?;
            remove_upload_rows(tx, &upload_id)
        })
        .await
    }

    /// Uploads in progress in `bucket`, oldest first.
    pub async fn list_uploads(&self, bucket: &str) -> ObjectResult<Vec<UploadInfo>> {
        let bucket = bucket.to_string();
        self.read(move |conn| {
            versioning_of(conn, &bucket)?;
            let mut statement = conn.prepare_cached(
                "SELECT upload_id, bucket, key, content_type, user_metadata, initiated_ms FROM uploads \
                 WHERE bucket = ?1 ORDER BY key, initiated_ms",
            )?;
            let rows = statement.query_map([&bucket], upload_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }
}

/// Checks the client's list against what was uploaded, as S3 does.
fn choose_parts(
    upload_id: &str,
    listed: &[CompletedPart],
    uploaded: &[(PartInfo, BlobId)],
) -> ObjectResult<Vec<(PartInfo, BlobId)>> {
    if listed.is_empty() {
        return Err(ObjectError::InvalidPart {
            upload_id: upload_id.to_string(),
            part_number: 0,
        });
    }
    if listed
        .windows(2)
        .any(|w| w[0].part_number >= w[1].part_number)
    {
        return Err(ObjectError::InvalidPartOrder);
    }
    let mut chosen = Vec::with_capacity(listed.len());
    for wanted in listed {
        let etag = wanted.etag.trim_matches('"');
        let found = uploaded
            .iter()
            .find(|(p, _)| p.part_number == wanted.part_number && p.etag == etag);
        let found = found.ok_or(ObjectError::InvalidPart {
            upload_id: upload_id.to_string(),
            part_number: wanted.part_number,
        })?;
        chosen.push(found.clone());
    }
    for (part, _) in &chosen[..chosen.len() - 1] {
        if part.size < MIN_PART_SIZE {
            return Err(ObjectError::EntityTooSmall {
                part_number: part.part_number,
                size: part.size,
                minimum: MIN_PART_SIZE,
            });
        }
    }
    Ok(chosen)
}

fn find_upload(
    conn: &Connection,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> ObjectResult<UploadInfo> {
    versioning_of(conn, bucket)?;
    conn.prepare_cached(
        "SELECT upload_id, bucket, key, content_type, user_metadata, initiated_ms FROM uploads \
         WHERE upload_id = ?1 AND bucket = ?2 AND key = ?3",
    )?
    .query_row(params![upload_id, bucket, key], upload_from_row)
    .optional()?
    .ok_or_else(|| ObjectError::NoSuchUpload {
        upload_id: upload_id.to_string(),
    })
}

fn upload_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<UploadInfo> {
    let metadata: String = row.get(4)?;
    Ok(UploadInfo {
        upload_id: row.get(0)?,
        bucket: row.get(1)?,
        key: row.get(2)?,
        content_type: row.get(3)?,
        user_metadata: serde_json::from_str(&metadata).unwrap_or_default(),
        initiated_ms: row.get(5)?,
    })
}

fn parts_of(
    conn: &Connection,
    upload_id: &str,
    after_part: i32,
    limit: usize,
) -> ObjectResult<Vec<(PartInfo, BlobId)>> {
    let mut statement = conn.prepare_cached(
        "SELECT part_number, size, etag, last_modified_ms, blob FROM parts \
         WHERE upload_id = ?1 AND part_number > ?2 ORDER BY part_number LIMIT ?3",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map(params![upload_id, after_part, limit], |row| {
        let part = PartInfo {
            part_number: row.get(0)?,
            size: row.get::<_, i64>(1)? as u64,
            etag: row.get(2)?,
            last_modified_ms: row.get(3)?,
        };
        Ok((part, row.get::<_, String>(4)?))
    })?;
    let mut parts = Vec::new();
    for row in rows {
        let (part, blob) = row?;
        parts.push((part, BlobId::parse(&blob)?));
    }
    Ok(parts)
}

fn remove_upload_rows(tx: &Connection, upload_id: &str) -> ObjectResult<()> {
    tx.execute("DELETE FROM parts WHERE upload_id = ?1", [upload_id])?;
    tx.execute("DELETE FROM uploads WHERE upload_id = ?1", [upload_id])?;
    Ok(())
}
