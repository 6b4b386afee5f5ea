//! Tables: typed records with a declared key, and loading CSV files into them.
//!
//! Pure parts — compiling a table's declaration ([`schema`]), parsing and
//! checking values ([`value`]), reading CSV records ([`csv`]) — are separate
//! from the databases behind the [`TableBackend`] seam (SQLite, PostgreSQL).
//! [`load_csv`] joins them: stream a file in, write it by policy, report.

pub mod backend;
pub mod csv;
mod error;
pub mod load;
mod registry;
pub mod schema;
pub mod value;

pub use backend::{
    Ensured, ItemPage, ItemQuery, LoadMarker, PriorLoad, SortCondition, TableBackend, TableWriter,
};
pub use error::TableError;
pub use load::{load_csv, LoadError, LoadReport, LoadRequest, LoadStatus};
pub use registry::{BoundTable, Embedded, Tables};
pub use schema::{ColumnSchema, TableSchema};
pub use value::{parse_cell, Cell};
