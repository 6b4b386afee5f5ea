//! The one seam between Sluice and SQL databases: a [`Warehouse`] runs a
//! statement and streams its result as typed Arrow record batches with the
//! columns' metadata. PostgreSQL, MySQL/MariaDB and SQLite implement it; the
//! conformance suite ([`crate::conformance`]) holds them to the same behaviour.

use crate::dialect::Dialect;
use crate::SqlError;
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::Stream;
use std::pin::Pin;
use std::time::Duration;

/// The batches of a result, in order; an `Err` ends it (the query failed
/// part-way, ran past its timeout, or a value did not fit its column).
pub type BatchStream = Pin<Box<dyn Stream<Item = Result<RecordBatch, SqlError>> + Send>>;

/// A running query: its columns, known before any row, and its rows.
///
/// Rows are produced while they are read, at most a few batches ahead of the
/// reader, so a result of any size takes bounded memory. Dropping `Rows`
/// before the end cancels the query and gives its connection back.
pub struct Rows {
    pub schema: SchemaRef,
    pub batches: BatchStream,
}

impl Rows {
    /// `name type, …` with each column's database type, for logs.
    pub fn columns_summary(&self) -> String {
        self.schema
            .fields()
            .iter()
            .map(|f| {
                let db = f
                    .metadata()
                    .get(crate::DB_TYPE_KEY)
                    .map_or("?", String::as_str);
                format!("{} {db}", f.name())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// How a connection pool is used right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStatus {
    /// Most connections the pool opens.
    pub max: usize,
    /// Connections open (busy or idle).
    pub open: usize,
    /// Connections serving a query.
    pub in_use: usize,
}

/// Settings shared by every backend, from the connection's declaration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The connection's name in `sluice.yaml`.
    pub name: String,
    /// The URL with secrets resolved.
    pub url: String,
    /// The URL as it may be shown (no password).
    pub shown: String,
    pub pool_max: u32,
    pub pool_min: u32,
    pub connect_timeout: Duration,
    pub query_timeout: Option<Duration>,
    pub tls: sluice_spec::TlsMode,
    /// A CA certificate (PEM) to verify the server with, resolved against the project root.
    pub ca_file: Option<std::path::PathBuf>,
    /// The project root, for relative SQLite paths.
    pub root: std::path::PathBuf,
}

/// A database Sluice reads from, behind a bounded connection pool shared by
/// every step of the process.
#[async_trait::async_trait]
pub trait Warehouse: Send + Sync {
    /// The connection's name in `sluice.yaml`.
    fn name(&self) -> &str;

    /// The connection's URL without secrets, for logs and errors.
    fn describe(&self) -> &str;

    /// How literals are written for this database.
    fn dialect(&self) -> Dialect;

    /// Runs one statement that returns rows. Its column types are mapped
    /// before any row is read: a column no output can hold is refused with
    /// [`SqlError::UnsupportedType`]. `query_timeout`, when set, bounds the
    /// time from sending the statement to its last row.
    async fn query(&self, sql: &str) -> Result<Rows, SqlError>;

    /// Runs statements that return no rows (DDL, writes); returns the rows
    /// affected when the database says.
    async fn execute(&self, sql: &str) -> Result<u64, SqlError>;

    /// The pool's current use.
    fn pool_status(&self) -> PoolStatus;
}
