//! ListObjectsV2 and ListObjectVersions: keys in UTF-8 byte order (SQLite's
//! BINARY collation compares UTF-8 bytes, which is S3's order), with prefix,
//! delimiter (common prefixes), a marker to resume after, and a page size.
//!
//! Rows are fetched in batches and folded in Rust: keys under an already
//! emitted common prefix are skipped one by one, which is linear in the keys
//! under that prefix — fine at Sluice's scale, and the first thing to change
//! (seek past the prefix) if listings of huge folders become slow.

use super::buckets::versioning_of;
use super::row::{version_from_row, VERSION_COLUMNS};
use super::types::ObjectVersion;
use super::Catalog;
use crate::error::ObjectResult;
use rusqlite::{params, Connection};

const BATCH: i64 = 500;

/// A ListObjectsV2 page request.
#[derive(Debug, Clone, Default)]
pub struct ListObjectsQuery {
    pub prefix: String,
    pub delimiter: Option<String>,
    /// List only keys (and common prefixes) after this one: the decoded
    /// continuation token, or StartAfter.
    pub after: Option<String>,
    pub max_keys: usize,
}

/// A ListObjectsV2 page.
#[derive(Debug, Clone, Default)]
pub struct ObjectListing {
    pub objects: Vec<ObjectVersion>,
    pub common_prefixes: Vec<String>,
    /// When truncated: the last key or common prefix returned, to resume after.
    pub next_after: Option<String>,
}

/// A ListObjectVersions page request.
#[derive(Debug, Clone, Default)]
pub struct ListVersionsQuery {
    pub prefix: String,
    pub delimiter: Option<String>,
    pub key_marker: Option<String>,
    pub version_id_marker: Option<String>,
    pub max_keys: usize,
}

/// A ListObjectVersions page: versions and delete markers, newest first per key.
#[derive(Debug, Clone, Default)]
pub struct VersionListing {
    pub versions: Vec<ObjectVersion>,
    pub common_prefixes: Vec<String>,
    pub next_key_marker: Option<String>,
    pub next_version_id_marker: Option<String>,
}

/// What one sorted row contributes to a page.
enum Entry<'a> {
    Row,
    CommonPrefix(&'a str),
    Skip,
}

/// Decides how a key folds into a page: outside the prefix is the end
/// (`None`), under an emitted common prefix is skipped.
fn classify<'a>(
    key: &'a str,
    prefix: &str,
    delimiter: Option<&str>,
    last_prefix: Option<&str>,
) -> Option<Entry<'a>> {
    if !key.starts_with(prefix) {
        return None;
    }
    let Some(delimiter) = delimiter.filter(|d| !d.is_empty()) else {
        return Some(Entry::Row);
    };
    match key[prefix.len()..].find(delimiter) {
        None => Some(Entry::Row),
        Some(at) => {
            let common = &key[..prefix.len() + at + delimiter.len()];
            Some(if last_prefix == Some(common) {
                Entry::Skip
            } else {
                Entry::CommonPrefix(common)
            })
        }
    }
}

impl Catalog {
    pub async fn list_objects(
        &self,
        bucket: &str,
        query: ListObjectsQuery,
    ) -> ObjectResult<ObjectListing> {
        let bucket = bucket.to_string();
        self.read(move |conn| {
            versioning_of(conn, &bucket)?;
            list_latest(conn, &bucket, &query)
        })
        .await
    }

    pub async fn list_versions(
        &self,
        bucket: &str,
        query: ListVersionsQuery,
    ) -> ObjectResult<VersionListing> {
        let bucket = bucket.to_string();
        self.read(move |conn| {
            versioning_of(conn, &bucket)?;
            list_all_versions(conn, &bucket, &query)
        })
        .await
    }
}

fn list_latest(
    conn: &Connection,
    bucket: &str,
    query: &ListObjectsQuery,
) -> ObjectResult<ObjectListing> {
    let mut page = ObjectListing::default();
    let delimiter = query.delimiter.as_deref();
    // Resuming after a common prefix means skipping every key under it.
    let mut last_prefix: Option<String> = query
        .after
        .clone()
        .filter(|a| delimiter.is_some_and(|d| !d.is_empty() && a.ends_with(d)));
    let mut cursor = query.after.clone().unwrap_or_default();
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {VERSION_COLUMNS} FROM versions v WHERE v.bucket = ?1 AND v.key > ?2 AND v.key >= ?3 \
         AND v.seq = (SELECT max(seq) FROM versions l WHERE l.bucket = v.bucket AND l.key = v.key) \
         ORDER BY v.key LIMIT ?4"
    ))?;
    let mut emitted = 0usize;
    loop {
        let batch: Vec<_> = statement
            .query_map(
                params![bucket, cursor, query.prefix, BATCH],
                version_from_row,
            )?
            .collect::<Result<_, _>>()?;
        let exhausted = (batch.len() as i64) < BATCH;
        for (version, _seq) in batch {
            cursor = version.key.clone();
            if version.is_delete_marker {
                continue;
            }
            let entry = match classify(
                &version.key,
                &query.prefix,
                delimiter,
                last_prefix.as_deref(),
            ) {
                None => return Ok(page),
                Some(Entry::Skip) => continue,
                Some(entry) => entry,
            };
            if emitted == query.max_keys {
                page.next_after = last_emitted(&page, &last_prefix);
                return Ok(page);
            }
            emitted += 1;
            match entry {
                Entry::CommonPrefix(common) => {
                    last_prefix = Some(common.to_string());
                    page.common_prefixes.push(common.to_string());
                }
                _ => {
                    last_prefix = None;
                    page.objects.push(version);
                }
            }
        }
        if exhausted {
            return Ok(page);
        }
    }
}

/// The marker to resume after: whichever of the last key or prefix came last.
fn last_emitted(page: &ObjectListing, last_prefix: &Option<String>) -> Option<String> {
    last_prefix
        .clone()
        .or_else(|| page.objects.last().map(|v| v.key.clone()))
}

fn list_all_versions(
    conn: &Connection,
    bucket: &str,
    query: &ListVersionsQuery,
) -> ObjectResult<VersionListing> {
    let mut page = VersionListing::default();
    let delimiter = query.delimiter.as_deref();
    let mut cursor_key = query.key_marker.clone().unwrap_or_default();
    // Rows of the marker key older than the marker version; 0 = none of that key.
    let mut cursor_seq: i64 = match (&query.key_marker, &query.version_id_marker) {
        (Some(key), Some(version_id)) => conn
            .query_row(
                "SELECT seq FROM versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3",
                params![bucket, key, version_id],
                |row| row.get(0),
            )
            .unwrap_or(0),
        _ => 0,
    };
    let mut last_prefix: Option<String> = query
        .key_marker
        .clone()
        .filter(|m| delimiter.is_some_and(|d| !d.is_empty() && m.ends_with(d)));
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {VERSION_COLUMNS} FROM versions v WHERE v.bucket = ?1 \
         AND (v.key > ?2 OR (v.key = ?2 AND v.seq < ?3)) AND v.key >= ?4 ORDER BY v.key, v.seq DESC LIMIT ?5"
    ))?;
    let mut emitted = 0usize;
    loop {
        let batch: Vec<_> = statement
            .query_map(
                params![bucket, cursor_key, cursor_seq, query.prefix, BATCH],
                version_from_row,
            )?
            .collect::<Result<_, _>>()?;
        let exhausted = (batch.len() as i64) < BATCH;
        for (version, seq) in batch {
            cursor_key = version.key.clone();
            cursor_seq = seq;
            let entry = match classify(
                &version.key,
                &query.prefix,
                delimiter,
                last_prefix.as_deref(),
            ) {
                None => return Ok(page),
                Some(Entry::Skip) => continue,
                Some(entry) => entry,
            };
            if emitted == query.max_keys {
                match &last_prefix {
                    Some(common) => page.next_key_marker = Some(common.clone()),
                    None => {
                        let last = page.versions.last();
                        page.next_key_marker = last.map(|v| v.key.clone());
                        page.next_version_id_marker = last.map(|v| v.version_id.clone());
                    }
                }
                return Ok(page);
            }
            emitted += 1;
            match entry {
                Entry::CommonPrefix(common) => {
                    last_prefix = Some(common.to_string());
                    page.common_prefixes.push(common.to_string());
                }
                _ => {
                    last_prefix = None;
                    page.versions.push(version);
                }
            }
        }
        if exhausted {
            return Ok(page);
        }
    }
}
