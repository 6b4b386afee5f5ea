//! Opening the database file: connection settings, identity and version checks,
//! and versioned migrations.
//!
//! Everything that can make a file unusable is detected here, at startup, and
//! reported as [`StoreError::Unusable`] naming the file and what to do, rather
//! than surfacing later as an obscure failure in the middle of a run.

use super::error::{DbError, DbResult};
use super::schema::MIGRATIONS;
use crate::StoreError;
use rusqlite::{Connection, DatabaseName, OpenFlags, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// Marks a file as a Sluice state store (`PRAGMA application_id`, "SLCE").
pub(crate) const APPLICATION_ID: i32 = 0x534C_4345;

/// How long a statement waits for another connection's lock before failing.
/// Writes are short transactions, so waiting this long means something is wrong.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Enough slots for every distinct statement the backend prepares, so the hot
/// paths never re-parse SQL.
const STATEMENT_CACHE_CAPACITY: usize = 128;

/// The schema version this build writes.
pub(crate) fn latest_version() -> i64 {
    crate::migration::latest_version(MIGRATIONS)
}

/// Opens the read-write connection, configures it and brings the schema up to date.
///
/// Durability settings:
/// * `journal_mode=WAL` lets readers proceed while one writer commits, and makes
///   a commit a sequential append to the log.
/// * `synchronous=NORMAL` does not fsync on every commit, only at checkpoints.
///   In WAL mode a committed transaction then survives the process crashing or
///   being killed (`kill -9`): the data is in the OS page cache and the log.
///   A power loss or kernel crash may lose the last transactions committed
///   before it, but never corrupts the database. For a batch platform whose
///   queues are at-least-once anyway, that trade buys an order of magnitude in
///   throughput.
/// * `foreign_keys=ON` makes SQLite enforce the run → step → attempt links.
pub(crate) fn open_writer(path: &Path, location: &str) -> DbResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if conn.is_readonly(DatabaseName::Main)? {
        return Err(read_only_error("SQLite opened the file read-only"));
    }
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(location, journal_mode = %mode, "SQLite refused WAL mode; readers will block writers");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    migrate(&mut conn, location)?;
    Ok(conn)
}

/// Opens a second, read-only connection for queries, so that listing runs or
/// reading logs never waits behind the writer (WAL lets both proceed).
pub(crate) fn open_reader(path: &Path) -> DbResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "query_only", true)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    Ok(conn)
}

/// Brings the schema to [`latest_version`], in one transaction.
///
/// The version lives in `PRAGMA user_version`, which is part of the database
/// header and therefore committed or rolled back together with the migration:
/// a crash mid-migration leaves the previous version intact.
fn migrate(conn: &mut Connection, location: &str) -> DbResult<()> {
    let latest = latest_version();
    // IMMEDIATE takes the write lock first, so two processes opening the same
    // new file at once cannot both run the migrations.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    check_identity(&tx, location)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > latest {
        return Err(unusable(
            location,
            format!(
                "it was written by a newer version of Sluice (schema version {current}; this build \
                 understands up to {latest}); upgrade Sluice to open it"
            ),
        ));
    }
    if current == latest {
        return Ok(tx.commit()?);
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
        tracing::info!(
            location,
            version = migration.version,
            migration.description,
            "migrating state store"
        );
        tx.execute_batch(migration.sql)?;
    }
    tx.pragma_update(None, "user_version", latest)?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    Ok(tx.commit()?)
}

/// Refuses SQLite files that belong to something else, so Sluice never adds
/// its tables to another program's database.
fn check_identity(conn: &Connection, location: &str) -> DbResult<()> {
    let application_id: i32 = conn.query_row("PRAGMA application_id", [], |row| row.get(0))?;
    if application_id == APPLICATION_ID {
        return Ok(());
    }
    if application_id != 0 {
        return Err(unusable(
            location,
            format!(
                "the file is a SQLite database of another application (application_id {application_id:#x}); \
                 move it away or choose another data directory"
            ),
        ));
    }
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
    if tables > 0 {
        return Err(unusable(
            location,
            "the file is a SQLite database but not a Sluice state store; move it away or choose another \
             data directory"
                .to_string(),
        ));
    }
    Ok(())
}

fn unusable(location: &str, reason: String) -> DbError {
    DbError::Store(StoreError::Unusable {
        location: location.to_string(),
        reason,
    })
}

/// A `SQLITE_READONLY` error, so a read-only file reads the same whichever way it is detected.
fn read_only_error(detail: &str) -> DbError {
    DbError::Sqlite(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
        Some(detail.to_string()),
    ))
}
