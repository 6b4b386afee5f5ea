//! Buckets and their versioning state.

use super::types::VersioningState;
use super::{now_ms, Catalog};
use crate::error::{ObjectError, ObjectResult};
use rusqlite::{params, Connection, OptionalExtension};

/// A bucket as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketInfo {
    pub name: String,
    pub versioning: VersioningState,
    pub created_ms: i64,
}

impl Catalog {
    /// Creates `bucket` if it does not exist; returns whether it was created.
    pub async fn create_bucket(&self, bucket: &str) -> ObjectResult<bool> {
        crate::names::check_bucket_name(bucket)?;
        let bucket = bucket.to_string();
        self.write(move |tx| {
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO buckets (name, versioning, created_ms) VALUES (?1, 'Unversioned', ?2)",
                params![bucket, now_ms()],
            )?;
            Ok(inserted == 1)
        })
        .await
    }

    /// Sets the versioning state. Turning versioning off on a bucket that was
    /// ever versioned suspends it, as S3 does.
    pub async fn set_versioning(
        &self,
        bucket: &str,
        enabled: bool,
    ) -> ObjectResult<VersioningState> {
        let bucket = bucket.to_string();
        self.write(move |tx| {
            let current = versioning_of(tx, &bucket)?;
            let next = match (enabled, current) {
                (true, _) => VersioningState::Enabled,
                (false, VersioningState::Unversioned) => VersioningState::Unversioned,
                (false, _) => VersioningState::Suspended,
            };
            tx.execute(
                "UPDATE buckets SET versioning = ?2 WHERE name = ?1",
                params![bucket, next.as_str()],
            )?;
            Ok(next)
        })
        .await
    }

    /// The versioning state of `bucket`; [`ObjectError::NoSuchBucket`] if it is not there.
    pub async fn versioning(&self, bucket: &str) -> ObjectResult<VersioningState> {
        let bucket = bucket.to_string();
        self.read(move |conn| versioning_of(conn, &bucket)).await
    }

    pub async fn list_buckets(&self) -> ObjectResult<Vec<BucketInfo>> {
        self.read(|conn| {
            let mut statement = conn
                .prepare_cached("SELECT name, versioning, created_ms FROM buckets ORDER BY name")?;
            let rows = statement.query_map([], |row| {
                Ok(BucketInfo {
                    name: row.get(0)?,
                    versioning: VersioningState::parse(&row.get::<_, String>(1)?),
                    created_ms: row.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Deletes an empty bucket (no versions, no uploads in progress).
    pub async fn delete_bucket(&self, bucket: &str) -> ObjectResult<()> {
        let bucket = bucket.to_string();
        self.write(move |tx| {
            versioning_of(tx, &bucket)?;
            let used: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM versions WHERE bucket = ?1) OR EXISTS (SELECT 1 FROM uploads WHERE bucket = ?1)",
                [&bucket],
                |row| row.get(0),
            )?;
            if used {
                return Err(ObjectError::BucketNotEmpty { bucket });
            }
            tx.execute("DELETE FROM buckets WHERE name = ?1", [&bucket])?;
            Ok(())
        })
        .await
    }
}

pub(super) fn versioning_of(conn: &Connection, bucket: &str) -> ObjectResult<VersioningState> {
    let state: Option<String> = conn
        .query_row(
            "SELECT versioning FROM buckets WHERE name = ?1",
            [bucket],
            |row| row.get(0),
        )
        .optional()?;
    state
        .map(|s| VersioningState::parse(&s))
        .ok_or_else(|| ObjectError::NoSuchBucket {
            bucket: bucket.to_string(),
        })
}
