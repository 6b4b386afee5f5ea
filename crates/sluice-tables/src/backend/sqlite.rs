//! Tables in an SQLite file: Sluice's embedded default (`DATA_DIR/tables.db`,
//! separate from the state store so a long load never blocks the queues) or
//! a `sqlite:` connection.
//!
//! Calls run on the blocking pool; a load holds its own connection and one
//! `BEGIN IMMEDIATE` transaction per checkpoint, writing multi-row upserts
//! through cached statements.

use super::sql::{
    column_definitions, column_list, conflict_action, ident, key_list, reconcile, sqlite_type,
    ExistingColumn, LOADS_TABLE,
};
use super::{
    Ensured, ItemPage, ItemQuery, LoadMarker, PriorLoad, SortCondition, TableBackend, TableWriter,
};
use crate::csv::Row;
use crate::schema::TableSchema;
use crate::value::{parse_cell, Cell};
use crate::TableError;
use async_trait::async_trait;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{params_from_iter, Connection, OptionalExtension, ToSql};
use sluice_spec::ColumnType;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Rows per upsert statement (bounded by SQLite's parameter limit).
const ROWS_PER_STATEMENT: usize = 256;

pub struct SqliteTables {
    path: PathBuf,
    /// For schema changes and queries; loads open their own.
    conn: Arc<Mutex<Connection>>,
}

impl SqliteTables {
    pub fn open(path: &Path) -> Result<SqliteTables, TableError> {
        let conn = open_connection(path)?;
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {LOADS_TABLE} (
                table_name TEXT NOT NULL, source TEXT NOT NULL, fingerprint TEXT NOT NULL,
                run_id TEXT NOT NULL, rows INTEGER NOT NULL, loaded_at TEXT NOT NULL,
                PRIMARY KEY (table_name, source, fingerprint)) WITHOUT ROWID"
        ))
        .map_err(|e| db_error(path, e))?;
        Ok(SqliteTables {
            path: path.to_path_buf(),
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    ) -> Result<T, TableError> {
        let conn = self.conn.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().expect("sqlite connection poisoned");
            f(&conn).map_err(|e| db_error(&path, e))
        })
        .await
        .expect("sqlite task panicked")
    }
}

fn open_connection(path: &Path) -> Result<Connection, TableError> {
    let conn = Connection::open(path).map_err(|e| db_error(path, e))?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
    )
    .map_err(|e| db_error(path, e))?;
    Ok(conn)
}

fn db_error(path: &Path, e: rusqlite::Error) -> TableError {
    TableError::Database {
        database: format!("SQLite {}", path.display()),
        message: e.to_string(),
    }
}

/// A cell as SQLite stores it.
struct Bind<'a>(&'a Cell);

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Cell::Null => ToSqlOutput::Owned(SqlValue::Null),
            Cell::Text(s) | Cell::Decimal(s) | Cell::Json(s) => {
                ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
            }
            Cell::Integer(i) => ToSqlOutput::Owned(SqlValue::Integer(*i)),
            Cell::Float(f) => ToSqlOutput::Owned(SqlValue::Real(*f)),
            Cell::Boolean(b) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*b))),
            other => ToSqlOutput::Owned(SqlValue::Text(other.canonical())),
        })
    }
}

#[async_trait]
impl TableBackend for SqliteTables {
    fn describe(&self) -> String {
        format!("SQLite {}", self.path.display())
    }

    async fn ensure_table(&self, schema: &TableSchema) -> Result<Ensured, TableError> {
        let schema = schema.clone();
        let path = self.path.clone();
        let outcome = self
            .with_conn(move |conn| Ok(ensure(conn, &schema, &path)))
            .await?;
        outcome
    }

    async fn prior_load(
        &self,
        schema: &TableSchema,
        source: &str,
        fingerprint: &str,
    ) -> Result<Option<PriorLoad>, TableError> {
        let args = (
            schema.name.clone(),
            source.to_string(),
            fingerprint.to_string(),
        );
        self.with_conn(move |conn| {
            conn.query_row(
                &format!("SELECT run_id, rows, loaded_at FROM {LOADS_TABLE} WHERE table_name = ?1 AND source = ?2 AND fingerprint = ?3"),
                rusqlite::params![args.0, args.1, args.2],
                |r| Ok(PriorLoad { run_id: r.get(0)?, rows: r.get::<_, i64>(1)? as u64, loaded_at: r.get(2)? }),
            )
            .optional()
        })
        .await
    }

    async fn writer(&self, schema: &TableSchema) -> Result<Box<dyn TableWriter>, TableError> {
        let path = self.path.clone();
        let schema = schema.clone();
        tokio::task::spawn_blocking(move || {
            let conn = open_connection(&path)?;
            // A bigger page cache for the load's B-tree inserts: a fixed
            // 32 MiB, whatever the file's size.
            conn.execute_batch("PRAGMA cache_size=-32768; BEGIN IMMEDIATE")
                .map_err(|e| db_error(&path, e))?;
            Ok(Box::new(SqliteWriter {
                conn: Some(conn),
                path,
                schema,
            }) as Box<dyn TableWriter>)
        })
        .await
        .expect("sqlite task panicked")
    }

    async fn query(&self, schema: &TableSchema, query: &ItemQuery) -> Result<ItemPage, TableError> {
        let (sql, args) = select(schema, query)?;
        let schema = schema.clone();
        let limit = query.limit;
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(&sql)?;
            let binds: Vec<Bind> = args.iter().map(Bind).collect();
            let mut rows = stmt.query(params_from_iter(binds.iter()))?;
            let mut items = Vec::new();
            let mut last_sort = None;
            while let Some(row) = rows.next()? {
                if items.len() == limit {
                    return Ok(ItemPage {
                        items,
                        next: last_sort,
                    });
                }
                let mut item = serde_json::Map::new();
                for (i, column) in schema.columns.iter().enumerate() {
                    let cell = read_cell(column.kind, row.get_ref(i)?);
                    if Some(i) == schema.sort {
                        last_sort = Some(cell.clone());
                    }
                    item.insert(column.name.clone(), cell.to_json());
                }
                items.push(item);
            }
            Ok(ItemPage { items, next: None })
        })
        .await
    }
}

fn read_cell(kind: ColumnType, value: ValueRef) -> Cell {
    match (kind, value) {
        (_, ValueRef::Null) => Cell::Null,
        (ColumnType::Boolean, ValueRef::Integer(i)) => Cell::Boolean(i != 0),
        (_, ValueRef::Integer(i)) => Cell::Integer(i),
        (_, ValueRef::Real(f)) => Cell::Float(f),
        (kind, ValueRef::Text(t)) => {
            let text = String::from_utf8_lossy(t);
            parse_cell(kind, &text).unwrap_or(Cell::Text(text.into_owned()))
        }
        (_, ValueRef::Blob(_)) => Cell::Null,
    }
}

/// The query's SQL and its arguments.
fn select(schema: &TableSchema, query: &ItemQuery) -> Result<(String, Vec<Cell>), TableError> {
    let mut sql = format!(
        "SELECT {} FROM {} WHERE {} = ?",
        column_list(schema),
        ident(&schema.name),
        ident(&schema.columns[schema.partition].name)
    );
    let mut args = vec![query.partition.clone()];
    if let Some(sort) = schema.sort {
        let sk = ident(&schema.columns[sort].name);
        match &query.sort {
            SortCondition::Any => {}
            SortCondition::Equals(v) => {
                sql.push_str(&format!(" AND {sk} = ?"));
                args.push(v.clone());
            }
            SortCondition::Between(from, to) => {
                if let Some(from) = from {
                    sql.push_str(&format!(" AND {sk} >= ?"));
                    args.push(from.clone());
                }
                if let Some(to) = to {
                    sql.push_str(&format!(" AND {sk} <= ?"));
                    args.push(to.clone());
                }
            }
            SortCondition::BeginsWith(prefix) => {
                sql.push_str(&format!(
                    " AND substr({sk}, 1, {}) = ?",
                    prefix.chars().count()
                ));
                args.push(Cell::Text(prefix.clone()));
            }
        }
        if let Some(after) = &query.after {
            sql.push_str(&format!(" AND {sk} > ?"));
            args.push(after.clone());
        }
        sql.push_str(&format!(" ORDER BY {sk}"));
    } else if query.sort != SortCondition::Any {
        return Err(TableError::BadQuery(format!(
            "table `{}` has no sort key",
            schema.name
        )));
    }
    sql.push_str(&format!(" LIMIT {}", query.limit + 1));
    Ok((sql, args))
}

fn ensure(conn: &Connection, schema: &TableSchema, path: &Path) -> Result<Ensured, TableError> {
    let table = ident(&schema.name);
    // (column, pk rank) as PRAGMA table_info reports them.
    let mut key_ranks = Vec::new();
    let existing: Vec<ExistingColumn> = {
        let mut stmt = conn
            .prepare(&format!("PRAGMA table_info({table})"))
            .map_err(|e| db_error(path, e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    ExistingColumn {
                        name: r.get(1)?,
                        sql_type: r.get(2)?,
                        not_null: r.get::<_, i64>(3)? != 0,
                    },
                    r.get::<_, i64>(5)?,
                ))
            })
            .map_err(|e| db_error(path, e))?;
        let mut columns = Vec::new();
        for row in rows {
            let (column, rank) = row.map_err(|e| db_error(path, e))?;
            if rank > 0 {
                key_ranks.push((rank, column.name.clone()));
            }
            columns.push(column);
        }
        columns
    };
    if existing.is_empty() {
        conn.execute_batch(&format!(
            "CREATE TABLE {table} ({}, PRIMARY KEY ({})) WITHOUT ROWID",
            column_definitions(schema, sqlite_type),
            key_list(schema)
        ))
        .map_err(|e| db_error(path, e))?;
        return Ok(Ensured::Created);
    }
    let mismatch = |reason: String| TableError::Mismatch {
        table: schema.name.clone(),
        database: format!("SQLite {}", path.display()),
        reason,
    };
    key_ranks.sort();
    let key: Vec<String> = key_ranks.into_iter().map(|(_, name)| name).collect();
    let want: Vec<String> = schema
        .key_positions()
        .iter()
        .map(|p| schema.columns[*p].name.clone())
        .collect();
    if key != want {
        return Err(mismatch(format!(
            "the primary key is ({}), expected ({})",
            key.join(", "),
            want.join(", ")
        )));
    }
    let missing = reconcile(schema, &existing, sqlite_type).map_err(mismatch)?;
    for (column, sql_type) in &missing {
        conn.execute_batch(&format!(
            "ALTER TABLE {table} ADD COLUMN {} {sql_type}",
            ident(column)
        ))
        .map_err(|e| db_error(path, e))?;
    }
    Ok(Ensured::Existing {
        added: missing.into_iter().map(|(name, _)| name).collect(),
    })
}

struct SqliteWriter {
    conn: Option<Connection>,
    path: PathBuf,
    schema: TableSchema,
}

impl SqliteWriter {
    async fn run<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&Connection, &TableSchema) -> Result<T, rusqlite::Error> + Send + 'static,
    ) -> Result<T, TableError> {
        let conn = self.conn.take().expect("writer used after it finished");
        let schema = self.schema.clone();
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = f(&conn, &schema);
            (conn, result)
        })
        .await
        .expect("sqlite task panicked");
        self.conn = Some(conn);
        result.map_err(|e| db_error(&self.path, e))
    }
}

fn upsert_sql(schema: &TableSchema, rows: usize) -> String {
    let one = format!("({})", vec!["?"; schema.columns.len()].join(","));
    format!(
        "INSERT INTO {} ({}) VALUES {} ON CONFLICT ({}) {}",
        ident(&schema.name),
        column_list(schema),
        vec![one; rows].join(","),
        key_list(schema),
        conflict_action(schema)
    )
}

#[async_trait]
impl TableWriter for SqliteWriter {
    async fn write(&mut self, rows: Vec<Row>) -> Result<(), TableError> {
        let rows = super::last_per_key(&self.schema, rows);
        self.run(move |conn, schema| {
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let mut stmt = conn.prepare_cached(&upsert_sql(schema, chunk.len()))?;
                let binds = chunk.iter().flat_map(|row| row.iter().map(Bind));
                stmt.execute(params_from_iter(binds))?;
            }
            Ok(())
        })
        .await
    }

    async fn checkpoint(&mut self) -> Result<(), TableError> {
        self.run(|conn, _| conn.execute_batch("COMMIT; BEGIN IMMEDIATE"))
            .await
    }

    async fn commit(mut self: Box<Self>, marker: &LoadMarker) -> Result<(), TableError> {
        let marker = marker.clone();
        self.run(move |conn, schema| {
            conn.execute(
                &format!("INSERT OR REPLACE INTO {LOADS_TABLE} VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                rusqlite::params![
                    schema.name,
                    marker.source,
                    marker.fingerprint,
                    marker.run_id,
                    marker.rows as i64,
                    chrono::Utc::now().to_rfc3339()
                ],
            )?;
            conn.execute_batch("COMMIT")
        })
        .await
    }

    async fn rollback(mut self: Box<Self>) -> Result<(), TableError> {
        self.run(|conn, _| conn.execute_batch("ROLLBACK")).await
    }
}
