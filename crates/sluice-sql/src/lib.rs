//! SQL databases Sluice reads from: the connections declared in
//! `sluice.yaml` (`connections:`), each a [`Warehouse`] behind one bounded
//! connection pool shared by every step of the process, and the writing of
//! query results as CSV, JSON Lines or Parquet files.
//!
//! # The pieces
//!
//! * [`Warehouse`] — the one seam: run a statement, stream its rows as typed
//!   Arrow record batches ([`Rows`]) with the columns' metadata. Implemented
//!   by [`postgres`] (`tokio-postgres` + `deadpool`), [`mysql`]
//!   (`mysql_async`, for MySQL and MariaDB) and [`sqlite`] (`rusqlite` on
//!   blocking threads); [`open`] picks one by URL scheme. The
//!   [`conformance`] suite holds all three to the same behaviour.
//! * [`ColumnType`] — the types results are mapped to, decided from the
//!   column metadata before any row is read; a type that cannot be written
//!   faithfully is refused up front rather than mangled.
//! * [`template`] — `{{ name }}` values put into a query as literals of the
//!   database's [`Dialect`], never as SQL, with error positions mapped back to
//!   the file the user wrote.
//! * [`output`] — rows to a file: CSV with a header, JSON Lines or Parquet,
//!   optionally compressed, in bounded memory whatever the number of rows.
//!
//! Nothing here knows buckets, runs or the engine.

mod batch;
pub mod conformance;
mod dialect;
mod error;
pub mod mysql;
mod open;
pub mod output;
pub mod postgres;
pub mod sqlite;
mod stream;
pub mod template;
mod tls;
mod types;
mod url;
mod warehouse;

pub use batch::{Cell, BATCH_BYTES, BATCH_ROWS};
pub use dialect::Dialect;
pub use error::{Position, SqlError};
pub use open::{open, settings};
pub use types::{ColumnType, DB_TYPE_KEY, JSON_KEY};
pub use url::redact;
pub use warehouse::{BatchStream, PoolStatus, Rows, Settings, Warehouse};
