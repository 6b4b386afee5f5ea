//! PostgreSQL through `tokio-postgres` and a `deadpool` pool (the same
//! driver as the state store), TLS through rustls.
//!
//! A query is prepared first (its columns are mapped before any row moves),
//! then executed in binary format and streamed: the driver stops reading the
//! socket while the reader is behind, so the server waits rather than Sluice
//! buffering. A query abandoned part-way is cancelled on the server and its
//! connection closed rather than drained.

mod decode;
mod numeric;

use crate::batch::BatchBuilder;
use crate::stream::{self, Producer, Stop};
use crate::tls::{self, mode_name};
use crate::warehouse::{PoolStatus, Rows, Settings, Warehouse};
use crate::{Dialect, Position, SqlError};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use futures::StreamExt;
use sluice_spec::TlsMode;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::ErrorPosition;
use tokio_postgres::tls::NoTls;
use tokio_postgres_rustls::MakeRustlsConnect;

/// A PostgreSQL warehouse.
pub struct PostgresWarehouse {
    settings: Settings,
    pool: Pool,
    tls: Option<MakeRustlsConnect>,
}

impl PostgresWarehouse {
    /// Builds the pool; no connection is opened until the first query.
    pub fn new(settings: Settings) -> Result<PostgresWarehouse, SqlError> {
        let config_error = |reason: String| SqlError::Config {
            connection: settings.name.clone(),
            reason,
        };
        let mut config: tokio_postgres::Config = settings
            .url
            .parse()
            .map_err(|e| config_error(format!("invalid PostgreSQL URL: {e}")))?;
        config.connect_timeout(settings.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name("sluice");
        }
        config.ssl_mode(match settings.tls {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            TlsMode::Require | TlsMode::VerifyFull => SslMode::Require,
        });
        let tls = tls::client_config(&settings)?.map(MakeRustlsConnect::new);
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match &tls {
            Some(tls) => Manager::from_config(config, tls.clone(), manager_config),
            None => Manager::from_config(config, NoTls, manager_config),
        };
        let pool = Pool::builder(manager)
            .max_size(settings.pool_max.max(1) as usize)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(settings.connect_timeout))
            .build()
            .map_err(|e| config_error(format!("cannot build the connection pool: {e}")))?;
        Ok(PostgresWarehouse {
            settings,
            pool,
            tls,
        })
    }

    async fn connect(pool: Pool, settings: Settings) -> Result<Object, SqlError> {
        pool.get().await.map_err(|e| connect_error(&settings, e))
    }
}

fn connect_error(settings: &Settings, error: deadpool_postgres::PoolError) -> SqlError {
    use deadpool_postgres::PoolError;
    let reason = match error {
        PoolError::Timeout(_) => format!(
            "no connection within the connect_timeout ({:?})",
            settings.connect_timeout
        ),
        PoolError::Backend(e) => full_error(&e),
        other => other.to_string(),
    };
    let tls_refused = reason.contains("TLS") || reason.contains("SSL");
    if tls_refused && matches!(settings.tls, TlsMode::Require | TlsMode::VerifyFull) {
        return tls::tls_error(settings, reason);
    }
    SqlError::Connect {
        connection: settings.name.clone(),
        target: settings.shown.clone(),
        reason,
    }
}

/// An error with its chain of causes.
fn full_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// The database's error, with its position in `sql` when it gives one.
fn query_error(error: &tokio_postgres::Error, sql: &str) -> SqlError {
    let Some(db) = error.as_db_error() else {
        return SqlError::Query {
            message: full_error(error),
            code: None,
            position: None,
        };
    };
    let mut message = db.message().to_string();
    if let Some(detail) = db.detail() {
        message.push_str(&format!("; detail: {detail}"));
    }
    if let Some(hint) = db.hint() {
        message.push_str(&format!("; hint: {hint}"));
    }
    let position = match db.position() {
        Some(ErrorPosition::Original(n)) => Some(Position::at_char(sql, *n as usize)),
        _ => None,
    };
    SqlError::Query {
        message,
        code: Some(db.code().code().to_string()),
        position,
    }
}

/// Cancels the running query and closes its connection unless disarmed:
/// held while rows stream, so a timeout or a reader that went away stops
/// the server's work instead of letting it run to the end.
struct CancelGuard {
    client: Option<Object>,
    tls: Option<MakeRustlsConnect>,
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let token = client.cancel_token();
        let tls = self.tls.clone();
        // Detached from the pool: the connection is closed, not reused mid-result.
        drop(Object::take(client));
        tokio::spawn(async move {
            let _ = match tls {
                Some(tls) => token.cancel_query(tls).await,
                None => token.cancel_query(NoTls).await,
            };
        });
    }
}

async fn produce(
    client: Object,
    sql: String,
    tls: Option<MakeRustlsConnect>,
    out: Producer,
) -> Result<(), Stop> {
    let statement = client
        .prepare(&sql)
        .await
        .map_err(|e| query_error(&e, &sql))?;
    if statement.columns().is_empty() {
        return Err(SqlError::NoResultSet.into());
    }
    let (schema, types, decoders) = decode::map_columns(statement.columns())?;
    out.schema(schema.clone()).await?;
    let mut guard = CancelGuard {
        client: Some(client),
        tls,
    };
    let client = guard.client.as_ref().expect("set above");
    let rows = client
        .query_raw(&statement, std::iter::empty::<i32>())
        .await
        .map_err(|e| query_error(&e, &sql))?;
    futures::pin_mut!(rows);
    let mut batch = BatchBuilder::new(schema, types);
    while let Some(row) = rows.next().await {
        let row = row.map_err(|e| query_error(&e, &sql))?;
        for (index, decoder) in decoders.iter().enumerate() {
            decode::decode(*decoder, &row, index, &mut batch)?;
        }
        if batch.end_row() {
            if let Some(full) = batch.take()? {
                out.batch(full).await?;
            }
        }
    }
    if let Some(last) = batch.take()? {
        out.batch(last).await?;
    }
    // Finished: the connection goes back to the pool.
    guard.client = None;
    drop(guard);
    Ok(())
}

#[async_trait::async_trait]
impl Warehouse for PostgresWarehouse {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn describe(&self) -> &str {
        &self.settings.shown
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn query(&self, sql: &str) -> Result<Rows, SqlError> {
        let (sql, tls) = (sql.to_string(), self.tls.clone());
        let connect = Self::connect(self.pool.clone(), self.settings.clone());
        stream::start(self.settings.query_timeout, connect, move |client, out| {
            produce(client, sql, tls, out)
        })
        .await
    }

    async fn execute(&self, sql: &str) -> Result<u64, SqlError> {
        let client = Self::connect(self.pool.clone(), self.settings.clone()).await?;
        let messages = client
            .simple_query(sql)
            .await
            .map_err(|e| query_error(&e, sql))?;
        Ok(messages
            .iter()
            .map(|m| match m {
                tokio_postgres::SimpleQueryMessage::CommandComplete(n) => *n,
                _ => 0,
            })
            .sum())
    }

    fn pool_status(&self) -> PoolStatus {
        let status = self.pool.status();
        PoolStatus {
            max: status.max_size,
            open: status.size,
            in_use: status.size.saturating_sub(status.available),
        }
    }
}

impl std::fmt::Debug for PostgresWarehouse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PostgresWarehouse({}, tls {})",
            self.settings.shown,
            mode_name(self.settings.tls)
        )
    }
}
