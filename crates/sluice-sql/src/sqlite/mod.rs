//! SQLite files through `rusqlite`, each query on a blocking thread.
//!
//! SQLite is dynamically typed: a column's type comes from its declared type
//! when it has one (`INTEGER`, `TEXT`, `REAL`, `BLOB`, `BOOLEAN`, …) and
//! otherwise from the first non-null value among the first rows. A later
//! value of another kind is converted when that is lossless (an integer in a
//! real or text column) and refused otherwise.
//!
//! The pool is a few connections kept open and a semaphore bounding them;
//! a query past its timeout or abandoned by its reader is interrupted.

mod infer;

use crate::batch::{BatchBuilder, Cell, BATCH_ROWS};
use crate::stream::{self, Producer, Stop};
use crate::warehouse::{PoolStatus, Rows, Settings, Warehouse};
use crate::{Dialect, Position, SqlError};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, InterruptHandle, OpenFlags};
use sluice_spec::TlsMode;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A SQLite file.
pub struct SqliteWarehouse {
    settings: Settings,
    path: PathBuf,
    flags: OpenFlags,
    idle: Arc<Mutex<Vec<Connection>>>,
    slots: Arc<Semaphore>,
    open: Arc<AtomicUsize>,
}

/// A connection taken from the pool; given back when dropped.
struct Lease {
    conn: Option<Connection>,
    idle: Arc<Mutex<Vec<Connection>>>,
    _slot: OwnedSemaphorePermit,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.idle.lock().expect("pool poisoned").push(conn);
        }
    }
}

impl SqliteWarehouse {
    /// `sqlite:PATH` or `sqlite://PATH` (relative to the project root),
    /// `?mode=ro|rw|rwc` (default `rw`: the file must exist).
    pub fn new(settings: Settings) -> Result<SqliteWarehouse, SqlError> {
        let config = |reason: String| SqlError::Config {
            connection: settings.name.clone(),
            reason,
        };
        if matches!(settings.tls, TlsMode::Require | TlsMode::VerifyFull) {
            return Err(config(
                "TLS does not apply to a SQLite file; remove `tls` from the connection".into(),
            ));
        }
        let rest = settings.url.trim_start_matches("sqlite:");
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() {
            return Err(config(
                "the SQLite URL names no file: use sqlite:PATH".into(),
            ));
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            flags = match pair {
                "mode=ro" => OpenFlags::SQLITE_OPEN_READ_ONLY,
                "mode=rw" => OpenFlags::SQLITE_OPEN_READ_WRITE,
                "mode=rwc" => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
                other => {
                    return Err(config(format!(
                        "unknown SQLite URL parameter `{other}`: use mode=ro, mode=rw or mode=rwc"
                    )))
                }
            };
        }
        Ok(SqliteWarehouse {
            path: settings.root.join(path),
            flags: flags | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
            slots: Arc::new(Semaphore::new(settings.pool_max.max(1) as usize)),
            settings,
            idle: Arc::default(),
            open: Arc::default(),
        })
    }

    async fn lease(&self) -> Result<Lease, SqlError> {
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| SqlError::Interrupted("the pool is closed".into()))?;
        let idle = self.idle.lock().expect("pool poisoned").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let (path, flags) = (self.path.clone(), self.flags);
                let busy = self.settings.connect_timeout;
                let opened = tokio::task::spawn_blocking(move || {
                    let conn = Connection::open_with_flags(&path, flags)?;
                    conn.busy_timeout(busy)?;
                    Ok::<_, rusqlite::Error>(conn)
                })
                .await
                .map_err(|e| SqlError::Interrupted(e.to_string()))?;
                let conn = opened.map_err(|e| SqlError::Connect {
                    connection: self.settings.name.clone(),
                    target: self.settings.shown.clone(),
                    reason: format!("cannot open {}: {e}", self.path.display()),
                })?;
                self.open.fetch_add(1, Ordering::Relaxed);
                conn
            }
        };
        Ok(Lease {
            conn: Some(conn),
            idle: self.idle.clone(),
            _slot: slot,
        })
    }
}

/// Interrupts the statement running on a connection unless disarmed.
struct InterruptGuard(Option<InterruptHandle>);

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.interrupt();
        }
    }
}

fn query_error(error: rusqlite::Error, sql: &str) -> SqlError {
    match error {
        rusqlite::Error::SqlInputError {
            msg, offset, error, ..
        } => SqlError::Query {
            message: msg,
            code: Some(format!("{:?}", error.code)),
            position: (offset >= 0).then(|| Position::at_byte(sql, offset as usize)),
        },
        rusqlite::Error::SqliteFailure(error, msg) => SqlError::Query {
            message: msg.unwrap_or_else(|| error.to_string()),
            code: Some(format!("{:?}", error.code)),
            position: None,
        },
        other => SqlError::Query {
            message: other.to_string(),
            code: None,
            position: None,
        },
    }
}

fn cell(value: ValueRef<'_>) -> Cell<'_> {
    match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Real(f) => Cell::Float(f),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Cell::Str(s),
            Err(_) => Cell::Bytes(t),
        },
        ValueRef::Blob(b) => Cell::Bytes(b),
    }
}

fn produce(conn: &Connection, sql: &str, out: &Producer) -> Result<(), Stop> {
    let err = |e| query_error(e, sql);
    let mut statement = conn.prepare(sql).map_err(err)?;
    if statement.column_count() == 0 {
        return Err(SqlError::NoResultSet.into());
    }
    let columns: Vec<(String, Option<String>)> = statement
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.decl_type().map(str::to_string)))
        .collect();
    let mut rows = statement.query([]).map_err(err)?;
    // The first rows decide the types of columns declared without one.
    let mut first: Vec<Vec<Value>> = Vec::new();
    while first.len() < BATCH_ROWS {
        let Some(row) = rows.next().map_err(err)? else {
            break;
        };
        let values = (0..columns.len())
            .map(|i| row.get::<_, Value>(i))
            .collect::<Result<_, _>>()
            .map_err(err)?;
        first.push(values);
    }
    let (schema, types) = infer::schema(&columns, &first);
    out.blocking_schema(schema.clone())?;
    let mut batch = BatchBuilder::new(schema, types);
    for values in &first {
        for (i, value) in values.iter().enumerate() {
            batch.push(i, cell(ValueRef::from(value)))?;
        }
        batch.end_row();
    }
    drop(first);
    if let Some(full) = batch.take()? {
        out.blocking_batch(full)?;
    }
    while let Some(row) = rows.next().map_err(err)? {
        for i in 0..columns.len() {
            batch.push(i, cell(row.get_ref(i).map_err(err)?))?;
        }
        if batch.end_row() {
            if let Some(full) = batch.take()? {
                out.blocking_batch(full)?;
            }
        }
    }
    if let Some(last) = batch.take()? {
        out.blocking_batch(last)?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl Warehouse for SqliteWarehouse {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn describe(&self) -> &str {
        &self.settings.shown
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn query(&self, sql: &str) -> Result<Rows, SqlError> {
        let lease = self.lease().await?;
        let sql = sql.to_string();
        stream::start(
            self.settings.query_timeout,
            async move { Ok(lease) },
            move |lease, out| async move {
                let conn = lease.conn.as_ref().expect("a lease holds a connection");
                let mut guard = InterruptGuard(Some(conn.get_interrupt_handle()));
                let done = tokio::task::spawn_blocking(move || {
                    let conn = lease.conn.as_ref().expect("a lease holds a connection");
                    produce(conn, &sql, &out)
                })
                .await;
                guard.0 = None;
                done.map_err(|e| Stop::Failed(SqlError::Interrupted(e.to_string())))?
            },
        )
        .await
    }

    async fn execute(&self, sql: &str) -> Result<u64, SqlError> {
        let lease = self.lease().await?;
        let sql = sql.to_string();
        tokio::task::spawn_blocking(move || {
            let conn = lease.conn.as_ref().expect("a lease holds a connection");
            let before = conn.total_changes();
            conn.execute_batch(&sql).map_err(|e| query_error(e, &sql))?;
            Ok(conn.total_changes() - before)
        })
        .await
        .map_err(|e| SqlError::Interrupted(e.to_string()))?
    }

    fn pool_status(&self) -> PoolStatus {
        let max = self.settings.pool_max.max(1) as usize;
        PoolStatus {
            max,
            open: self.open.load(Ordering::Relaxed),
            in_use: max - self.slots.available_permits(),
        }
    }
}
