//! The catalog: object metadata and the event outbox in one SQLite file.
//!
//! Same choices as the state store (`sluice-store`'s SQLite backend), in a
//! file of its own so object traffic never contends with queue traffic:
//! WAL, `synchronous=NORMAL` (a commit survives a process crash or `kill -9`),
//! one connection behind a mutex, every write one `BEGIN IMMEDIATE`
//! transaction run on Tokio's blocking pool.
//!
//! Reads share the writer's connection for now; object metadata reads are
//! single indexed lookups, so a separate reader connection (as the state store
//! has) is an optimisation left for when it shows up in a profile.

mod buckets;
mod listing;
mod multipart;
mod outbox;
mod row;
mod schema;
mod types;
mod versions;

pub use buckets::BucketInfo;
pub use listing::{ListObjectsQuery, ListVersionsQuery, ObjectListing, VersionListing};
pub use types::{
    CompletedPart, DeleteOutcome, NewVersion, ObjectVersion, PartInfo, Segment, UploadInfo,
    VersioningState, NULL_VERSION_ID,
};

use crate::error::{ObjectError, ObjectResult};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use sluice_spec::Notification;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// Marks a file as a Sluice object catalog (`PRAGMA application_id`, "SLOB").
const APPLICATION_ID: i32 = 0x534C_4F42;

/// Object metadata, multipart state and the event outbox.
#[derive(Clone)]
pub struct Catalog {
    conn: Arc<Mutex<Connection>>,
    /// Notification rules per bucket, from the project file: the routing
    /// decision is made inside the committing transaction.
    rules: Arc<RwLock<HashMap<String, Vec<Notification>>>>,
    /// Signalled after every committed write, so an outbox relay can sleep
    /// until there may be something to relay (see [`Catalog::outbox_signal`]).
    committed: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").finish_non_exhaustive()
    }
}

impl Catalog {
    /// Opens (creating it if needed) the catalog at `path`, and migrates it.
    pub fn open(path: &Path) -> ObjectResult<Catalog> {
        let location = path.display().to_string();
        let unusable = |reason: String| ObjectError::CatalogUnusable {
            location: location.clone(),
            reason,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| unusable(format!("cannot create its directory: {e}")))?;
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrate(&mut conn).map_err(|e| match e {
            ObjectError::CatalogUnusable { reason, .. } => unusable(reason),
            other => other,
        })?;
        Ok(Catalog {
            conn: Arc::new(Mutex::new(conn)),
            rules: Arc::default(),
            committed: Arc::default(),
        })
    }

    /// Replaces the notification rules of `bucket` (from the project file).
    pub fn set_notification_rules(&self, bucket: &str, rules: Vec<Notification>) {
        let mut all = self.rules.write().unwrap_or_else(PoisonError::into_inner);
        all.insert(bucket.to_string(), rules);
    }

    fn rules_of(&self, bucket: &str) -> Vec<Notification> {
        let all = self.rules.read().unwrap_or_else(PoisonError::into_inner);
        all.get(bucket).cloned().unwrap_or_default()
    }

    /// Wakes a waiting relay after each committed write. `notify_one` keeps a
    /// permit when nobody waits, so a relay looping "take pending events; if
    /// none, `outbox_signal().notified().await`" never misses a commit.
    pub fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.committed)
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction on the blocking pool.
    async fn write<T, F>(&self, work: F) -> ObjectResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> ObjectResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let committed = tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = work(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
        .expect("catalog work does not panic");
        if committed.is_ok() {
            self.committed.notify_one();
        }
        committed
    }

    /// Runs a read-only query on the blocking pool.
    async fn read<T, F>(&self, work: F) -> ObjectResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> ObjectResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            work(&conn)
        })
        .await
        .expect("catalog work does not panic")
    }
}

fn migrate(conn: &mut Connection) -> ObjectResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let application_id: i32 = tx.query_row("PRAGMA application_id", [], |row| row.get(0))?;
    let tables: i64 = tx.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
    if application_id != APPLICATION_ID && (application_id != 0 || tables > 0) {
        return Err(ObjectError::CatalogUnusable {
            location: String::new(),
            reason: "the file is not a Sluice object catalog; move it away or choose another data directory".into(),
        });
    }
    let current: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let latest = schema::MIGRATIONS.last().map_or(0, |m| m.version);
    if current > latest {
        return Err(ObjectError::CatalogUnusable {
            location: String::new(),
            reason: format!(
                "it was written by a newer Sluice (schema {current} > {latest}); upgrade Sluice"
            ),
        });
    }
    for migration in schema::MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.execute_batch(migration.sql)?;
    }
    tx.pragma_update(None, "user_version", latest)?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    Ok(tx.commit()?)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}
