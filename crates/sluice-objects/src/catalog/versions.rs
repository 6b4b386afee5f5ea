//! Committing, reading and deleting object versions, with S3's versioning
//! rules: unversioned and suspended buckets keep one `"null"` version per key
//! (a new write replaces it); versioned buckets keep every version, and a
//! delete without a version id adds a delete marker.

use super::buckets::versioning_of;
use super::outbox::{record_event, record_garbage, EventFacts};
use super::row::{version_from_row, VERSION_COLUMNS};
use super::types::{DeleteOutcome, NewVersion, ObjectVersion, VersioningState, NULL_VERSION_ID};
use super::{now_ms, Catalog};
use crate::error::{ObjectError, ObjectResult};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

impl Catalog {
    /// Commits `version` and its `event_name` event (e.g. `ObjectCreated:Put`)
    /// in one transaction. Blobs of a replaced `"null"` version become garbage.
    pub async fn commit_version(
        &self,
        version: NewVersion,
        event_name: &'static str,
    ) -> ObjectResult<ObjectVersion> {
        let rules = self.rules_of(&version.bucket);
        self.write(move |tx| insert_version(tx, &rules, version, event_name))
            .await
    }

    /// The latest version of `key` (which may be a delete marker), or the
    /// version `version_id`.
    pub async fn get_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> ObjectResult<ObjectVersion> {
        let (bucket, key, version_id) = (
            bucket.to_string(),
            key.to_string(),
            version_id.map(str::to_string),
        );
        self.read(move |conn| {
            versioning_of(conn, &bucket)?;
            let found = find_version(conn, &bucket, &key, version_id.as_deref())?;
            found.ok_or_else(|| match version_id {
                Some(version_id) => ObjectError::NoSuchVersion {
                    bucket,
                    key,
                    version_id,
                },
                None => ObjectError::NoSuchKey { bucket, key },
            })
        })
        .await
    }

    /// Deletes as S3's DeleteObject does: without `version_id`, removes the
    /// object (unversioned) or adds a delete marker (versioned/suspended);
    /// with it, removes exactly that version. Records the removal event.
    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> ObjectResult<DeleteOutcome> {
        let rules = self.rules_of(bucket);
        let (bucket, key, version_id) = (
            bucket.to_string(),
            key.to_string(),
            version_id.map(str::to_string),
        );
        self.write(move |tx| match version_id {
            Some(version_id) => delete_exact_version(tx, &rules, &bucket, &key, &version_id),
            None => delete_current(tx, &rules, &bucket, &key),
        })
        .await
    }
}

pub(super) fn insert_version(
    tx: &Transaction<'_>,
    rules: &[sluice_spec::Notification],
    version: NewVersion,
    event_name: &'static str,
) -> ObjectResult<ObjectVersion> {
    let versioning = versioning_of(tx, &version.bucket)?;
    let version_id = match versioning {
        VersioningState::Enabled => uuid::Uuid::now_v7().simple().to_string(),
        _ => {
            remove_row(tx, &version.bucket, &version.key, NULL_VERSION_ID)?;
            NULL_VERSION_ID.to_string()
        }
    };
    tx.prepare_cached(
        "INSERT INTO versions (bucket, key, version_id, is_delete_marker, size, etag, content_type, \
         user_metadata, segments, parts_count, last_modified_ms) VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        version.bucket,
        version.key,
        version_id,
        version.size as i64,
        version.etag,
        version.content_type,
        serde_json::to_string(&version.user_metadata).expect("maps serialize"),
        serde_json::to_string(&version.segments).expect("segments serialize"),
        version.parts_count,
        now_ms(),
    ])?;
    let facts = EventFacts {
        bucket: &version.bucket,
        key: &version.key,
        event_name,
        size: Some(version.size),
        etag: Some(&version.etag),
        version_id: event_version_id(versioning, &version_id),
    };
    record_event(tx, rules, &facts)?;
    Ok(
        find_version(tx, &version.bucket, &version.key, Some(&version_id))?
            .expect("the row was just inserted"),
    )
}

/// The version id an event carries: none for buckets that were never versioned.
fn event_version_id(versioning: VersioningState, version_id: &str) -> Option<&str> {
    (versioning != VersioningState::Unversioned).then_some(version_id)
}

fn delete_current(
    tx: &Transaction<'_>,
    rules: &[sluice_spec::Notification],
    bucket: &str,
    key: &str,
) -> ObjectResult<DeleteOutcome> {
    let versioning = versioning_of(tx, bucket)?;
    if versioning == VersioningState::Unversioned {
        if remove_row(tx, bucket, key, NULL_VERSION_ID)? {
            let facts = EventFacts {
                bucket,
                key,
                event_name: "ObjectRemoved:Delete",
                size: None,
                etag: None,
                version_id: None,
            };
            record_event(tx, rules, &facts)?;
        }
        return Ok(DeleteOutcome {
            version_id: None,
            delete_marker: false,
        });
    }
    let version_id = match versioning {
        VersioningState::Enabled => uuid::Uuid::now_v7().simple().to_string(),
        _ => {
            remove_row(tx, bucket, key, NULL_VERSION_ID)?;
            NULL_VERSION_ID.to_string()
        }
    };
    tx.prepare_cached(
        "INSERT INTO versions (bucket, key, version_id, is_delete_marker, size, etag, user_metadata, segments, \
         last_modified_ms) VALUES (?1, ?2, ?3, 1, 0, '', '{}', '[]', ?4)",
    )?
    .execute(params![bucket, key, version_id, now_ms()])?;
    let facts = EventFacts {
        bucket,
        key,
        event_name: "ObjectRemoved:DeleteMarkerCreated",
        size: None,
        etag: None,
        version_id: Some(&version_id),
    };
    record_event(tx, rules, &facts)?;
    Ok(DeleteOutcome {
        version_id: Some(version_id),
        delete_marker: true,
    })
}

fn delete_exact_version(
    tx: &Transaction<'_>,
    rules: &[sluice_spec::Notification],
    bucket: &str,
    key: &str,
    version_id: &str,
) -> ObjectResult<DeleteOutcome> {
    let versioning = versioning_of(tx, bucket)?;
    let Some(existing) = find_version(tx, bucket, key, Some(version_id))? else {
        // S3 answers a delete of a missing version with success (idempotent).
        return Ok(DeleteOutcome {
            version_id: Some(version_id.to_string()),
            delete_marker: false,
        });
    };
    remove_row(tx, bucket, key, version_id)?;
    let facts = EventFacts {
        bucket,
        key,
        event_name: "ObjectRemoved:Delete",
        size: None,
        etag: None,
        version_id: event_version_id(versioning, version_id).or(Some(version_id)),
    };
    record_event(tx, rules, &facts)?;
    Ok(DeleteOutcome {
        version_id: Some(version_id.to_string()),
        delete_marker: existing.is_delete_marker,
    })
}

/// Deletes one version row, recording its blobs as garbage. Returns whether a row existed.
fn remove_row(
    tx: &Transaction<'_>,
    bucket: &str,
    key: &str,
    version_id: &str,
) -> ObjectResult<bool> {
    let Some(existing) = find_version(tx, bucket, key, Some(version_id))? else {
        return Ok(false);
    };
    record_garbage(tx, bucket, existing.segments.iter().map(|s| &s.blob))?;
    tx.prepare_cached("DELETE FROM versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3")?
        .execute(params![bucket, key, version_id])?;
    Ok(true)
}

pub(super) fn find_version(
    conn: &Connection,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> ObjectResult<Option<ObjectVersion>> {
    let found = match version_id {
        Some(version_id) => conn
            .prepare_cached(&format!(
                "SELECT {VERSION_COLUMNS} FROM versions v WHERE v.bucket = ?1 AND v.key = ?2 AND v.version_id = ?3"
            ))?
            .query_row(params![bucket, key, version_id], version_from_row)
            .optional()?,
        None => conn
            .prepare_cached(&format!(
                "SELECT {VERSION_COLUMNS} FROM versions v WHERE v.bucket = ?1 AND v.key = ?2 ORDER BY v.seq DESC LIMIT 1"
            ))?
            .query_row(params![bucket, key], version_from_row)
            .optional()?,
    };
    Ok(found.map(|(version, _seq)| version))
}
