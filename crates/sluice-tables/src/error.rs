//! Errors of table operations. A database error is worth a retry; a schema
//! error needs a change to `sluice.yaml` or to the database.

/// What went wrong with a table.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("table `{table}`: {reason}")]
    InvalidSchema { table: String, reason: String },
    /// The table exists in the database with a shape the declaration contradicts.
    #[error("table `{table}` in {database} does not match sluice.yaml: {reason}")]
    Mismatch {
        table: String,
        database: String,
        reason: String,
    },
    #[error("{database}: {message}")]
    Database { database: String, message: String },
    #[error("bad query: {0}")]
    BadQuery(String),
    #[error("no table `{0}` is declared")]
    NoSuchTable(String),
}

impl TableError {
    /// Whether retrying the same operation later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, TableError::Database { .. })
    }
}
