//! Internal error type of the SQLite backend and its translation to [`StoreError`].
//!
//! Inside the backend every function returns [`DbResult`], so `?` works on
//! rusqlite and serde_json errors alike. Only at the boundary of a [`crate::Store`]
//! call is the error translated, once, with the database location and the name
//! of the operation attached: that is where a raw "disk I/O error" becomes a
//! message an operator can act on.

use crate::StoreError;
use rusqlite::ffi::ErrorCode;

/// Result of the backend's internal functions.
pub(crate) type DbResult<T> = Result<T, DbError>;

/// Everything that can go wrong inside the SQLite backend.
#[derive(Debug)]
pub(crate) enum DbError {
    /// A domain error decided by the backend (not found, lease lost, conflict).
    Store(StoreError),
    /// SQLite itself failed.
    Sqlite(rusqlite::Error),
    /// A JSON column could not be encoded or decoded.
    Json(serde_json::Error),
    /// A stored value this build cannot interpret (e.g. an unknown status name).
    BadValue(String),
}

impl From<StoreError> for DbError {
    fn from(e: StoreError) -> Self {
        DbError::Store(e)
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sqlite(e)
    }
}

impl From<serde_json::Error> for DbError {
    fn from(e: serde_json::Error) -> Self {
        DbError::Json(e)
    }
}

impl DbError {
    /// Translates to the public error, naming the database file and the operation.
    pub(crate) fn into_store(self, location: &str, operation: &str) -> StoreError {
        match self {
            DbError::Store(e) => e,
            DbError::Sqlite(e) => sqlite_to_store(e, location, operation),
            DbError::Json(e) => StoreError::Backend(format!(
                "{operation}: invalid JSON in the database or request: {e}"
            )),
            DbError::BadValue(what) => StoreError::Backend(format!(
                "{operation}: unexpected value in the database: {what}"
            )),
        }
    }
}

/// Maps a SQLite failure to the error kind the caller can act on.
///
/// File-level problems (corruption, full disk, read-only media, permissions)
/// become [`StoreError::Unusable`]: retrying will not help, a human must act,
/// and the message says what to do. Everything else is a [`StoreError::Backend`].
pub(crate) fn sqlite_to_store(e: rusqlite::Error, location: &str, operation: &str) -> StoreError {
    let unusable = |reason: String| StoreError::Unusable {
        location: location.to_string(),
        reason,
    };
    let rusqlite::Error::SqliteFailure(failure, ref detail) = e else {
        return StoreError::Backend(format!("{operation}: {e}"));
    };
    let detail = detail.clone().unwrap_or_else(|| failure.to_string());
    match failure.code {
        ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => unusable(format!(
            "the file is not a SQLite database or is corrupt ({detail}); \
             restore it from a backup, or move it away to start with an empty state"
        )),
        ErrorCode::DiskFull => unusable(format!(
            "the disk is full ({operation} could not be written: {detail}); free some space and retry"
        )),
        ErrorCode::ReadOnly => unusable(format!(
            "the database cannot be written ({detail}): the filesystem is read-only or the file or its \
             directory is not writable by this user; make it writable or choose another data directory"
        )),
        ErrorCode::CannotOpen => unusable(format!(
            "cannot open the database file ({detail}); check that its directory exists and is writable"
        )),
        ErrorCode::PermissionDenied => {
            unusable(format!("permission denied ({detail}); check the ownership and mode of the file and its directory"))
        }
        ErrorCode::SystemIoFailure => {
            unusable(format!("disk I/O error ({detail}); check the disk and the filesystem, then restart"))
        }
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Backend(format!(
            "{operation}: the database at {location} stayed locked by another connection or process \
             for longer than the busy timeout ({detail})"
        )),
        _ => StoreError::Backend(format!("{operation}: {detail}")),
    }
}

/// Shorthand for "the store decided this is not found".
pub(crate) fn not_found(kind: &'static str, id: &str) -> DbError {
    DbError::Store(StoreError::not_found(kind, id))
}

/// Shorthand for "the receipt is stale".
pub(crate) fn lease_lost(message_id: &str) -> DbError {
    DbError::Store(StoreError::LeaseLost {
        message_id: message_id.to_string(),
    })
}

/// Shorthand for "the request conflicts with the current state".
pub(crate) fn conflict(message: impl Into<String>) -> DbError {
    DbError::Store(StoreError::Conflict(message.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: std::os::raw::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    fn reason_of(code: std::os::raw::c_int) -> String {
        match sqlite_to_store(failure(code), "/data/state.db", "enqueue") {
            StoreError::Unusable { location, reason } => {
                assert_eq!(location, "/data/state.db");
                reason
            }
            other => panic!("code {code} should make the store unusable, got {other:?}"),
        }
    }

    #[test]
    fn file_level_failures_make_the_store_unusable_with_advice() {
        assert!(reason_of(rusqlite::ffi::SQLITE_FULL).contains("disk is full"));
        assert!(reason_of(rusqlite::ffi::SQLITE_READONLY).contains("read-only"));
        assert!(reason_of(rusqlite::ffi::SQLITE_CORRUPT).contains("move it away"));
        assert!(reason_of(rusqlite::ffi::SQLITE_NOTADB).contains("restore it from a backup"));
        assert!(reason_of(rusqlite::ffi::SQLITE_IOERR).contains("I/O error"));
    }

    #[test]
    fn busy_database_is_a_backend_error_naming_the_file() {
        match sqlite_to_store(
            failure(rusqlite::ffi::SQLITE_BUSY),
            "/data/state.db",
            "lease",
        ) {
            StoreError::Backend(message) => {
                assert!(message.contains("/data/state.db") && message.contains("lease"))
            }
            other => panic!("expected Backend, got {other:?}"),
        }
    }
}
