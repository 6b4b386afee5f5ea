//! The event outbox and the garbage list: effects decided inside a catalog
//! transaction and carried out after it commits.
//!
//! [`record_event`] runs inside the transaction that commits an object change
//! and inserts one outbox row per notification rule the event matches (as S3
//! does: each matching configuration gets its own delivery). Relaying is
//! at-least-once: [`Catalog::take_pending_events`], deliver, then
//! [`Catalog::mark_delivered`].

use super::{now_ms, Catalog};
use crate::blob::BlobId;
use crate::error::ObjectResult;
use crate::event::ObjectEvent;
use rusqlite::{params, Transaction};
use sluice_spec::Notification;

/// The facts of one object change, before routing.
#[derive(Debug, Clone)]
pub(super) struct EventFacts<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    /// Without the `s3:` prefix, e.g. `ObjectCreated:Put`.
    pub event_name: &'static str,
    pub size: Option<u64>,
    pub etag: Option<&'a str>,
    /// `None` for objects in buckets that were never versioned.
    pub version_id: Option<&'a str>,
}

/// Inserts the outbox rows for `facts`, one per matching rule.
pub(super) fn record_event(
    tx: &Transaction<'_>,
    rules: &[Notification],
    facts: &EventFacts<'_>,
) -> ObjectResult<()> {
    let s3_name = format!("s3:{}", facts.event_name);
    let matching: Vec<(usize, &Notification)> = rules
        .iter()
        .enumerate()
        .filter(|(_, rule)| rule.matches(&s3_name, facts.key))
        .collect();
    if matching.is_empty() {
        return Ok(());
    }
    let sequencer: i64 = tx.query_row(
        "UPDATE event_sequence SET value = value + 1 RETURNING value",
        [],
        |row| row.get(0),
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO outbox (bucket, key, event_name, size, etag, version_id, sequencer, event_time_ms, \
         configuration_id, target) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let now = now_ms();
    for (index, rule) in matching {
        let target = serde_json::to_string(&rule.target).expect("targets serialize");
        insert.execute(params![
            facts.bucket,
            facts.key,
            facts.event_name,
            facts.size.map(|s| s as i64),
            facts.etag,
            facts.version_id,
            sequencer,
            now,
            format!("{}-notification-{}", facts.bucket, index + 1),
            target,
        ])?;
    }
    Ok(())
}

/// Records blobs that the transaction made unreachable.
pub(super) fn record_garbage<'a>(
    tx: &Transaction<'_>,
    bucket: &str,
    blobs: impl IntoIterator<Item = &'a BlobId>,
) -> ObjectResult<()> {
    let mut insert = tx.prepare_cached("INSERT INTO garbage (bucket, blob) VALUES (?1, ?2)")?;
    for blob in blobs {
        insert.execute(params![bucket, blob.as_str()])?;
    }
    Ok(())
}

impl Catalog {
    /// Up to `limit` undelivered events, oldest first. An event stays pending
    /// (and is returned again) until [`Catalog::mark_delivered`].
    pub async fn take_pending_events(&self, limit: usize) -> ObjectResult<Vec<ObjectEvent>> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id, bucket, key, event_name, size, etag, version_id, sequencer, event_time_ms, \
                 configuration_id, target FROM outbox WHERE delivered_ms IS NULL ORDER BY id LIMIT ?1",
            )?;
            let rows = statement.query_map([limit as i64], |row| {
                let target: String = row.get(10)?;
                Ok(ObjectEvent {
                    id: row.get(0)?,
                    bucket: row.get(1)?,
                    key: row.get(2)?,
                    event_name: row.get(3)?,
                    size: row.get::<_, Option<i64>>(4)?.map(|s| s as u64),
                    etag: row.get(5)?,
                    version_id: row.get(6)?,
                    sequencer: row.get(7)?,
                    event_time_ms: row.get(8)?,
                    configuration_id: row.get(9)?,
                    target: serde_json::from_str(&target).map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(10, rusqlite::types::Type::Text, Box::new(e))
                    })?,
                    aws_region: crate::event::DEFAULT_REGION.to_string(),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Marks events delivered; they are never returned again.
    pub async fn mark_delivered(&self, ids: &[i64]) -> ObjectResult<()> {
        let ids = ids.to_vec();
        self.write(move |tx| {
            let mut update =
                tx.prepare_cached("UPDATE outbox SET delivered_ms = ?2 WHERE id = ?1")?;
            let now = now_ms();
            for id in ids {
                update.execute(params![id, now])?;
            }
            Ok(())
        })
        .await
    }

    /// Up to `limit` unreachable blobs: `(garbage id, bucket, blob)`.
    pub(crate) async fn pending_garbage(
        &self,
        limit: usize,
    ) -> ObjectResult<Vec<(i64, String, BlobId)>> {
        self.read(move |conn| {
            let mut statement =
                conn.prepare_cached("SELECT id, bucket, blob FROM garbage ORDER BY id LIMIT ?1")?;
            let rows = statement.query_map([limit as i64], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })?;
            let mut garbage = Vec::new();
            for row in rows {
                let (id, bucket, blob) = row?;
                match BlobId::parse(&blob) {
                    Ok(blob) => garbage.push((id, bucket, blob)),
                    Err(_) => tracing::warn!(
                        garbage_id = id,
                        blob,
                        "ignoring a garbage row with an invalid blob id"
                    ),
                }
            }
            Ok(garbage)
        })
        .await
    }

    /// Every blob a version, part or pending garbage row names (for the
    /// startup sweep of blobs a crash left unreferenced). Holds all ids in
    /// memory: fine for millions of objects, to be paged beyond that.
    pub(crate) async fn referenced_blobs(&self) -> ObjectResult<std::collections::HashSet<BlobId>> {
        self.read(|conn| {
            let mut referenced = std::collections::HashSet::new();
            let mut segments = conn.prepare("SELECT segments FROM versions")?;
            for json in segments.query_map([], |row| row.get::<_, String>(0))? {
                let parsed: Vec<crate::catalog::Segment> =
                    serde_json::from_str(&json?).unwrap_or_default();
                referenced.extend(parsed.into_iter().map(|s| s.blob));
            }
            let mut others =
                conn.prepare("SELECT blob FROM parts UNION ALL SELECT blob FROM garbage")?;
            for blob in others.query_map([], |row| row.get::<_, String>(0))? {
                referenced.extend(BlobId::parse(&blob?).ok());
            }
            Ok(referenced)
        })
        .await
    }

    /// Forgets garbage rows whose blobs were deleted.
    pub(crate) async fn forget_garbage(&self, ids: Vec<i64>) -> ObjectResult<()> {
        self.write(move |tx| {
            let mut delete = tx.prepare_cached("DELETE FROM garbage WHERE id = ?1")?;
            for id in ids {
                delete.execute([id])?;
            }
            Ok(())
        })
        .await
    }
}
