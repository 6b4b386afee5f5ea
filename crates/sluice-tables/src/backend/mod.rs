//! The seam between tables and the databases holding them: one trait,
//! implemented for SQLite and PostgreSQL, and one conformance suite
//! (`tests/conformance.rs`) that every implementation passes.

pub mod postgres;
mod postgres_writer;
mod sql;
pub mod sqlite;

use crate::csv::Row;
use crate::schema::TableSchema;
use crate::value::Cell;
use crate::TableError;
use async_trait::async_trait;

/// Identifies one loaded file version, so loading it again changes nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadMarker {
    /// Where the file came from, e.g. `s3://inbound/students.csv`.
    pub source: String,
    /// The object version (or ETag) that was loaded.
    pub fingerprint: String,
    /// The run that loaded it.
    pub run_id: String,
    pub rows: u64,
}

/// An earlier load of the same file version.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PriorLoad {
    pub run_id: String,
    pub rows: u64,
    /// RFC 3339 time of the load.
    pub loaded_at: String,
}

/// What `ensure_table` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ensured {
    Created,
    /// The table existed and matches; these optional columns were added.
    Existing {
        added: Vec<String>,
    },
}

/// Which rows of a partition a query wants, by sort key.
#[derive(Debug, Clone, PartialEq)]
pub enum SortCondition {
    Any,
    Equals(Cell),
    /// Inclusive bounds; either may be open.
    Between(Option<Cell>, Option<Cell>),
    BeginsWith(String),
}

/// A page of items of one partition, in sort-key order.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemQuery {
    pub partition: Cell,
    pub sort: SortCondition,
    pub limit: usize,
    /// Resume after this sort key (the previous page's last item).
    pub after: Option<Cell>,
}

/// Items found, as JSON objects, and whether more follow.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemPage {
    pub items: Vec<serde_json::Map<String, serde_json::Value>>,
    /// The sort key to resume after, when there may be more.
    pub next: Option<Cell>,
}

/// A database holding tables.
#[async_trait]
pub trait TableBackend: Send + Sync {
    /// Names the database for messages, without secrets.
    fn describe(&self) -> String;
    /// Creates the table, or checks that the existing one matches (adding
    /// declared optional columns it lacks).
    async fn ensure_table(&self, schema: &TableSchema) -> Result<Ensured, TableError>;
    /// The earlier load of this file version, if there was one.
    async fn prior_load(
        &self,
        schema: &TableSchema,
        source: &str,
        fingerprint: &str,
    ) -> Result<Option<PriorLoad>, TableError>;
    /// Starts a load: rows written through the writer are invisible to
    /// readers until a checkpoint or commit.
    async fn writer(&self, schema: &TableSchema) -> Result<Box<dyn TableWriter>, TableError>;
    async fn query(&self, schema: &TableSchema, query: &ItemQuery) -> Result<ItemPage, TableError>;
}

/// One load in progress: a transaction that upserts rows on the key.
#[async_trait]
pub trait TableWriter: Send {
    /// Upserts rows; a row whose key exists replaces it. Within one call the
    /// last row of a key wins.
    async fn write(&mut self, rows: Vec<Row>) -> Result<(), TableError>;
    /// Commits what was written so far and opens a new transaction.
    async fn checkpoint(&mut self) -> Result<(), TableError>;
    /// Records the marker and commits, in one transaction.
    async fn commit(self: Box<Self>, marker: &LoadMarker) -> Result<(), TableError>;
    /// Discards everything since the last checkpoint.
    async fn rollback(self: Box<Self>) -> Result<(), TableError>;
}

/// Keeps the last row of each key, in the order of those last rows, so one
/// upsert statement never touches a key twice (PostgreSQL refuses that).
pub fn last_per_key(schema: &TableSchema, rows: Vec<Row>) -> Vec<Row> {
    use std::borrow::Cow;
    use std::collections::HashMap;
    let keys = schema.key_positions();
    fn key_of<'r>(row: &'r Row, keys: &[usize]) -> (Cow<'r, str>, Option<Cow<'r, str>>) {
        (
            row[keys[0]].key_text(),
            keys.get(1).map(|k| row[*k].key_text()),
        )
    }
    let keep: Vec<bool> = {
        let mut last: HashMap<_, usize> = HashMap::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            last.insert(key_of(row, &keys), i);
        }
        if last.len() == rows.len() {
            return rows;
        }
        let mut keep = vec![false; rows.len()];
        for i in last.into_values() {
            keep[i] = true;
        }
        keep
    };
    rows.into_iter()
        .zip(keep)
        .filter_map(|(row, kept)| kept.then_some(row))
        .collect()
}
