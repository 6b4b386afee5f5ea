//! The SQLite backend: one database file holds every queue, run, log and event.
//!
//! # Concurrency model
//!
//! SQLite allows one writer at a time, so the store keeps one read-write
//! connection behind a mutex and runs every write in a short `BEGIN IMMEDIATE`
//! transaction (concurrent writes share one, see `group_commit`): taking the write lock up front means a transaction never has to
//! upgrade from reading to writing half-way through (the source of `SQLITE_BUSY`
//! surprises), and it is what makes the concurrency limit and FIFO groups hold
//! across processes sharing the file. A second, read-only connection serves
//! queries; thanks to WAL they never wait for the writer.
//!
//! SQLite calls block, so each async method moves its work onto Tokio's
//! blocking pool with `spawn_blocking` and never stalls the async executor.
//!
//! # Time
//!
//! Every time-based decision (visibility, delays, dedup windows) reads the
//! injected [`Clock`] once per transaction, after the connection lock is held,
//! so transactions observe non-decreasing times in commit order.
//!
//! # Limits
//!
//! For the listing methods (`list_runs`, `list_messages`, `read_logs`,
//! `read_events`) a limit of 0 means "no limit". For `lease` and `redrive`,
//! `max` is a count to take and 0 takes nothing.

mod dead_letters;
mod delivery;
mod error;
mod group_commit;
mod lease;
mod logs;
mod messages;
mod open;
mod queues;
mod runs;
mod schedules;
mod schema;
mod steps;
mod store_impl;
mod tokens;
mod values;

use crate::{StoreError, StoreResult};
use error::{DbError, DbResult};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use sluice_core::time::{Clock, EpochMillis};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// A [`crate::Store`] backed by one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    writer: Arc<Mutex<Connection>>,
    writes: Arc<group_commit::WriteQueue>,
    reader: Arc<Mutex<Connection>>,
    clock: Arc<dyn Clock>,
    path: PathBuf,
    /// The path as shown in error messages.
    location: Arc<str>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it and its directory if needed) the database at `path`
    /// and migrates it to the current schema.
    ///
    /// The file is used in WAL mode with `synchronous=NORMAL`: committed work
    /// survives a crash or `kill -9` of the process; a power loss may lose the
    /// last few transactions but does not corrupt the file.
    ///
    /// Fails with [`StoreError::Unusable`] when the file is not a SQLite
    /// database, is corrupt, belongs to another program, was written by a newer
    /// Sluice, or cannot be written.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> StoreResult<SqliteStore> {
        let location: Arc<str> = Arc::from(path.display().to_string());
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Unusable {
                location: location.to_string(),
                reason: format!("cannot create the directory {}: {e}", parent.display()),
            })?;
        }
        let writer =
            open::open_writer(path, &location).map_err(|e| e.into_store(&location, "open"))?;
        let reader = open::open_reader(path).map_err(|e| e.into_store(&location, "open"))?;
        Ok(SqliteStore {
            writer: Arc::new(Mutex::new(writer)),
            writes: Arc::default(),
            reader: Arc::new(Mutex::new(reader)),
            clock,
            path: path.to_path_buf(),
            location,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version this build creates and understands.
    pub fn schema_version() -> i64 {
        open::latest_version()
    }

    /// Runs `work` in a `BEGIN IMMEDIATE` transaction on the writer
    /// connection, shared with the other writes queued at the same moment
    /// (see `group_commit`), and returns once that transaction committed.
    /// A failed `work` is rolled back alone.
    async fn write<T, F>(&self, operation: &'static str, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, EpochMillis) -> DbResult<T> + Send + 'static,
    {
        self.writes
            .write(&self.writer, &self.clock, work)
            .await
            .map_err(|e| e.into_store(&self.location, operation))
    }

    /// Runs `work` in one read transaction on the reader connection, so that
    /// multi-statement reads see a single consistent snapshot.
    async fn read<T, F>(&self, operation: &'static str, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>, EpochMillis) -> DbResult<T> + Send + 'static,
    {
        let clock = Arc::clone(&self.clock);
        self.run_blocking(Arc::clone(&self.reader), operation, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            work(&tx, clock.now_ms())
        })
        .await
    }

    async fn run_blocking<T, F>(
        &self,
        conn: Arc<Mutex<Connection>>,
        operation: &'static str,
        work: F,
    ) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> DbResult<T> + Send + 'static,
    {
        let location = Arc::clone(&self.location);
        // Fast path: an uncontended connection runs the (short) transaction
        // right here, saving two thread hand-offs per call.
        if let Ok(mut guard) = conn.try_lock() {
            return work(&mut guard).map_err(|e: DbError| e.into_store(&location, operation));
        }
        let joined = tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave a transaction open:
            // rusqlite rolls back when the `Transaction` is dropped during
            // unwinding. The connection is therefore still sound.
            let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut guard)
        })
        .await;
        match joined {
            Ok(result) => result.map_err(|e: DbError| e.into_store(&location, operation)),
            Err(join_error) => Err(StoreError::Backend(format!(
                "{operation}: the database task failed: {join_error}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
