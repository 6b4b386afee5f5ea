//! MySQL and MariaDB through `mysql_async` (pure Rust, rustls for TLS).
//!
//! Queries use the text protocol, which streams rows as the server produces
//! them: the driver reads one row at a time from the socket, so the server
//! waits while the reader is behind. Column types are mapped from the result
//! set's metadata before the first row. Sessions run with
//! `time_zone = '+00:00'` so `TIMESTAMP` values come back in UTC. A query
//! abandoned part-way is stopped with `KILL QUERY`.

mod text;
mod types;

use crate::batch::BatchBuilder;
use crate::stream::{self, Producer, Stop};
use crate::tls::{mode_name, tls_error};
use crate::warehouse::{PoolStatus, Rows, Settings, Warehouse};
use crate::{Dialect, Position, SqlError};
use futures::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, Row, SslOpts};
use sluice_spec::TlsMode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OnceCell, Semaphore};
use tokio::time::Instant;

/// A MySQL or MariaDB warehouse.
pub struct MySqlWarehouse {
    settings: Settings,
    opts: Opts,
    /// Created on first use: `prefer` needs to ask the server whether it offers TLS.
    pool: OnceCell<Pool>,
    /// Bounds connections in use, so waiting for a free one is not mistaken
    /// for a slow connect.
    slots: Arc<Semaphore>,
}

/// A pooled connection and the slot it holds.
struct Lease {
    conn: Conn,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl MySqlWarehouse {
    pub fn new(settings: Settings) -> Result<MySqlWarehouse, SqlError> {
        // mysql_async builds its TLS configuration with the process default.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let url = match settings.url.strip_prefix("mariadb://") {
            Some(rest) => format!("mysql://{rest}"),
            None => settings.url.clone(),
        };
        let opts = Opts::from_url(&url).map_err(|e| SqlError::Config {
            connection: settings.name.clone(),
            reason: format!("invalid MySQL URL: {e}"),
        })?;
        let constraints = PoolConstraints::new(
            settings.pool_min.min(settings.pool_max) as usize,
            settings.pool_max.max(1) as usize,
        )
        .expect("min is at most max");
        let opts = OptsBuilder::from_opts(opts)
            .pool_opts(PoolOpts::default().with_constraints(constraints))
            .setup(vec!["SET time_zone = '+00:00'"])
            .into();
        Ok(MySqlWarehouse {
            slots: Arc::new(Semaphore::new(settings.pool_max.max(1) as usize)),
            settings,
            opts,
            pool: OnceCell::new(),
        })
    }

    fn with_tls(&self, ssl: Option<SslOpts>) -> Opts {
        OptsBuilder::from_opts(self.opts.clone())
            .ssl_opts(ssl)
            .into()
    }

    /// The pool, created with the TLS the mode asks for (probing for `prefer`
    /// with a connection that must answer before `deadline`).
    async fn pool(&self, deadline: Instant) -> Result<&Pool, SqlError> {
        self.pool
            .get_or_try_init(|| async {
                let unverified = SslOpts::default()
                    .with_danger_accept_invalid_certs(true)
                    .with_danger_skip_domain_validation(true);
                let opts = match self.settings.tls {
                    TlsMode::Disable => self.with_tls(None),
                    TlsMode::Require => self.with_tls(Some(unverified)),
                    TlsMode::VerifyFull => {
                        let mut ssl = SslOpts::default();
                        if let Some(ca) = &self.settings.ca_file {
                            ssl = ssl
                                .with_root_certs(vec![ca.clone().into()])
                                .with_disable_built_in_roots(true);
                        }
                        self.with_tls(Some(ssl))
                    }
                    TlsMode::Prefer => {
                        let tls = self.with_tls(Some(unverified));
                        match self.within(deadline, Conn::new(tls.clone())).await? {
                            Ok(conn) => {
                                let _ = conn.disconnect().await;
                                tls
                            }
                            Err(mysql_async::Error::Driver(
                                mysql_async::DriverError::NoClientSslFlagFromServer,
                            )) => self.with_tls(None),
                            Err(e) => return Err(self.connect_error(&e)),
                        }
                    }
                };
                Ok(Pool::new(opts))
            })
            .await
    }

    async fn lease(&self) -> Result<Lease, SqlError> {
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| SqlError::Interrupted("the pool is closed".into()))?;
        // One deadline for the TLS probe and the connection itself: the step
        // waits at most connect_timeout, however many round trips it takes.
        let deadline = Instant::now() + self.settings.connect_timeout;
        let pool = self.pool(deadline).await?;
        let conn = self
            .within(deadline, pool.get_conn())
            .await?
            .map_err(|e| self.connect_error(&e))?;
        Ok(Lease { conn, _slot: slot })
    }

    /// Bounds a connection attempt: mysql_async has no connect timeout of its
    /// own, so a server that accepts TCP but never sends its handshake would
    /// otherwise hang the step forever.
    async fn within<T>(
        &self,
        deadline: Instant,
        attempt: impl std::future::Future<Output = Result<T, mysql_async::Error>>,
    ) -> Result<Result<T, mysql_async::Error>, SqlError> {
        tokio::time::timeout_at(deadline, attempt)
            .await
            .map_err(|_| {
                self.connect_failed(format!(
                    "no connection within the connect_timeout ({:?}): the server \
                 accepted the connection but did not answer",
                    self.settings.connect_timeout
                ))
            })
    }

    fn connect_failed(&self, reason: String) -> SqlError {
        SqlError::Connect {
            connection: self.settings.name.clone(),
            target: self.settings.shown.clone(),
            reason,
        }
    }

    fn connect_error(&self, error: &mysql_async::Error) -> SqlError {
        let reason = error.to_string();
        let tls_failed = matches!(
            error,
            mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer)
        ) || reason.contains("TLS")
            || reason.contains("certificate");
        if tls_failed && self.settings.tls != TlsMode::Disable {
            let reason = if reason.contains("NoClientSslFlag") || reason.contains("SSL") {
                "the server does not offer TLS".to_string()
            } else {
                reason
            };
            return tls_error(&self.settings, reason);
        }
        self.connect_failed(reason)
    }
}

/// The server's error, with its position when the message says `at line N`.
fn query_error(error: mysql_async::Error, sql: &str) -> SqlError {
    match error {
        mysql_async::Error::Server(e) => SqlError::Query {
            position: position_of(&e.message, sql),
            code: Some(format!("{} {}", e.code, e.state)),
            message: e.message,
        },
        other => SqlError::Query {
            message: other.to_string(),
            code: None,
            position: None,
        },
    }
}

/// MySQL reports syntax errors as `… near 'REST OF QUERY' at line N`: the
/// position is where that text starts on (or after) line N.
fn position_of(message: &str, sql: &str) -> Option<Position> {
    let start = message.find("near '")? + "near '".len();
    let end = message.rfind("' at line ")?;
    let line: usize = message[end + "' at line ".len()..].trim().parse().ok()?;
    let line_start = Position::line_start(sql, line).offset;
    let near = message.get(start..end)?;
    if near.is_empty() {
        return Some(Position::at_byte(sql, sql.trim_end().len()));
    }
    let probe: String = near.chars().take(24).collect();
    let found = sql[line_start..].find(&probe).map(|i| line_start + i);
    Some(Position::at_byte(sql, found.unwrap_or(line_start)))
}

/// Stops the query in the server unless disarmed (see the module comment).
struct KillGuard {
    pool: Option<Pool>,
    id: u32,
    /// How long the `KILL QUERY` waits for a connection before giving up.
    connect_timeout: Duration,
}

impl Drop for KillGuard {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let id = self.id;
            let patience = self.connect_timeout;
            tokio::spawn(async move {
                let conn = tokio::time::timeout(patience, pool.get_conn()).await;
                if let Ok(Ok(mut conn)) = conn {
                    let _ = conn.query_drop(format!("KILL QUERY {id}")).await;
                }
            });
        }
    }
}

async fn produce(
    mut lease: Lease,
    pool: Pool,
    connect_timeout: Duration,
    sql: String,
    out: Producer,
) -> Result<(), Stop> {
    let mut guard = KillGuard {
        pool: Some(pool),
        id: lease.conn.id(),
        connect_timeout,
    };
    let mut result = lease
        .conn
        .query_iter(sql.as_str())
        .await
        .map_err(|e| query_error(e, &sql))?;
    let columns = result
        .columns()
        .filter(|c| !c.is_empty())
        .ok_or(SqlError::NoResultSet)?;
    let (schema, types, decoders) = types::map_columns(&columns)?;
    out.schema(schema.clone()).await?;
    let mut batch = BatchBuilder::new(schema, types);
    let rows = result
        .stream::<Row>()
        .await
        .map_err(|e| query_error(e, &sql))?;
    if let Some(mut rows) = rows {
        while let Some(row) = rows.next().await {
            let row = row.map_err(|e| query_error(e, &sql))?;
            for (index, decoder) in decoders.iter().enumerate() {
                types::decode(*decoder, row.as_ref(index), index, &mut batch)?;
            }
            if batch.end_row() {
                if let Some(full) = batch.take()? {
                    out.batch(full).await?;
                }
            }
        }
    }
    if let Some(last) = batch.take()? {
        out.batch(last).await?;
    }
    guard.pool = None;
    Ok(())
}

#[async_trait::async_trait]
impl Warehouse for MySqlWarehouse {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn describe(&self) -> &str {
        &self.settings.shown
    }

    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    async fn query(&self, sql: &str) -> Result<Rows, SqlError> {
        // Waiting for a free connection does not count against query_timeout.
        let lease = self.lease().await?;
        let pool = self.pool.get().expect("a lease creates the pool").clone();
        let connect_timeout = self.settings.connect_timeout;
        let sql = sql.to_string();
        stream::start(
            self.settings.query_timeout,
            async move { Ok(lease) },
            move |lease, out| produce(lease, pool, connect_timeout, sql, out),
        )
        .await
    }

    async fn execute(&self, sql: &str) -> Result<u64, SqlError> {
        let mut lease = self.lease().await?;
        lease
            .conn
            .query_drop(sql)
            .await
            .map_err(|e| query_error(e, sql))?;
        Ok(lease.conn.affected_rows())
    }

    fn pool_status(&self) -> PoolStatus {
        let max = self.settings.pool_max.max(1) as usize;
        let Some(pool) = self.pool.get() else {
            return PoolStatus {
                max,
                ..Default::default()
            };
        };
        let metrics = pool.metrics();
        PoolStatus {
            max,
            open: metrics.connection_count.load(Ordering::Relaxed),
            in_use: max - self.slots.available_permits(),
        }
    }
}

impl std::fmt::Debug for MySqlWarehouse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MySqlWarehouse({}, tls {})",
            self.settings.shown,
            mode_name(self.settings.tls)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_point_into_the_query() {
        let sql = "SELECT a,\n  FROM orders";
        let message = "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'FROM orders' at line 2";
        let p = position_of(message, sql).unwrap();
        assert_eq!((p.line, p.column), (2, 3));
        let end = "… near '' at line 1";
        assert_eq!(position_of(end, "SELECT (").unwrap().column, 9);
        assert_eq!(position_of("Table 'x' doesn't exist", sql), None);
    }
}
