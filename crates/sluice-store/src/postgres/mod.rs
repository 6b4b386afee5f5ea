//! The PostgreSQL backend: one database (optionally one schema of it) holds
//! every queue, run, log and event, so many `sluice worker` processes on many
//! machines can share one state store.
//!
//! # Concurrency model
//!
//! Every store call is one short transaction on a pooled connection
//! ([`deadpool_postgres`] over [`tokio_postgres`]). Writes run at `READ
//! COMMITTED`, the PostgreSQL default, and take row locks explicitly where a
//! read decides a later write (`SELECT ... FOR UPDATE` / `FOR NO KEY UPDATE`).
//! Leasing uses `FOR UPDATE SKIP LOCKED`, so competing workers take different
//! messages without waiting for each other; where a decision spans many rows
//! (the concurrency limit, FIFO groups) a per-queue advisory lock serializes
//! the leasers of that queue only (see [`lease`] for why). Multi-statement reads
//! run in a `REPEATABLE READ READ ONLY` transaction, so they see one snapshot.
//!
//! A transaction that fails with a serialization failure or a deadlock is
//! retried from the start a few times before the error is returned.
//!
//! # Time
//!
//! Every time-based decision reads the injected [`Clock`] once per transaction,
//! after `BEGIN`, and passes `now` to SQL as a parameter; SQL never calls
//! `now()`, so the conformance suite can move time and so the database
//! server's clock never disagrees with the workers'.
//!
//! # Limits
//!
//! As in the SQLite backend, a listing limit of 0 means "no limit"; for
//! `lease` and `redrive`, `max` is a count to take and 0 takes nothing.

mod dead_letters;
mod delivery;
mod error;
mod lease;
mod logs;
mod queues;
mod runs;
mod schedules;
mod schema;
mod sql;
mod steps;
mod store_impl;
mod tokens;

use crate::{StoreError, StoreResult};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use error::{strip_password, DbError, DbResult};
use sluice_core::time::{Clock, EpochMillis};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::NoTls;

/// Connections a store opens at most. Each Sluice process needs few: store
/// calls are short, and a 2-core worker rarely has more in flight.
pub const DEFAULT_POOL_SIZE: usize = 8;

/// How long connecting to the server may take before it is reported unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a transaction that hit a serialization failure or a deadlock is tried.
const TRANSACTION_TRIES: u32 = 3;

/// A [`crate::Store`] backed by PostgreSQL.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    clock: Arc<dyn Clock>,
    /// The URL without password, for error messages.
    location: Arc<str>,
    /// `postgres://host/db` (plus the schema when one was chosen), for `describe`.
    description: Arc<str>,
    schema: Option<Arc<str>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.location)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`
    /// or the key=value form) and migrates it to the current schema, with a
    /// pool of at most [`DEFAULT_POOL_SIZE`] connections.
    ///
    /// With `schema`, every table lives in that schema (created if missing)
    /// and every pooled connection has it as its `search_path`; this is how
    /// tests, or several Sluice deployments, share one database without
    /// seeing each other. Schema names are limited to ASCII letters, digits and
    /// `_` so they need no quoting anywhere.
    ///
    /// Fails with [`StoreError::Unusable`] (naming the URL without its password)
    /// when the URL is malformed, the server cannot be reached or refuses the
    /// login, or the schema was written by a newer Sluice or belongs to
    /// another program.
    pub async fn connect(
        url: &str,
        schema: Option<&str>,
        clock: Arc<dyn Clock>,
    ) -> StoreResult<PostgresStore> {
        Self::connect_with_pool_size(url, schema, clock, DEFAULT_POOL_SIZE).await
    }

    /// [`PostgresStore::connect`] with a chosen maximum number of connections.
    pub async fn connect_with_pool_size(
        url: &str,
        schema: Option<&str>,
        clock: Arc<dyn Clock>,
        pool_size: usize,
    ) -> StoreResult<PostgresStore> {
        let unusable = |location: &str, reason: String| StoreError::Unusable {
            location: location.to_string(),
            reason,
        };
        let mut config = tokio_postgres::Config::from_str(url).map_err(|e| {
            unusable(
                &strip_password(url),
                format!("not a PostgreSQL connection URL: {e}"),
            )
        })?;
        let location = error::location_of(&config);
        let mut description = error::description_of(&config);
        if let Some(schema) = schema {
            schema::check_schema_name(schema).map_err(|reason| unusable(&location, reason))?;
            // Appended to any options the URL already carries (e.g. a
            // `-c synchronous_commit=off` chosen by the operator).
            let options = match config.get_options() {
                Some(existing) if !existing.is_empty() => {
                    format!("{existing} -c search_path={schema}")
                }
                _ => format!("-c search_path={schema}"),
            };
            config.options(&options);
            description.push_str(&format!("?schema={schema}"));
        }
        if config.get_application_name().is_none() {
            config.application_name("sluice");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| unusable(&location, format!("cannot build the connection pool: {e}")))?;
        let store = PostgresStore {
            pool,
            clock,
            location: Arc::from(location),
            description: Arc::from(description),
            schema: schema.map(Arc::from),
        };
        let mut client = store
            .client()
            .await
            .map_err(|e| store.error(e, "connect"))?;
        schema::migrate(&mut client, store.schema.as_deref(), &store.location)
            .await
            .map_err(|e| store.error(e, "migrate"))?;
        Ok(store)
    }

    /// The schema version this build creates and understands.
    pub fn schema_version() -> i64 {
        schema::latest_version()
    }

    /// The schema the tables live in, when one was chosen at connect.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// A pooled connection.
    async fn client(&self) -> DbResult<deadpool_postgres::Client> {
        self.pool.get().await.map_err(DbError::Pool)
    }

    /// The injected clock's time, read once per transaction.
    fn now(&self) -> EpochMillis {
        self.clock.now_ms()
    }

    /// Translates an internal error for the caller.
    fn error(&self, e: DbError, operation: &str) -> StoreError {
        e.into_store(&self.location, operation)
    }
}

/// Runs `$body` (an expression that may use `$tx`, a
/// [`deadpool_postgres::Transaction`], and `$now`, the clock's time) in one
/// read-write transaction, committing if it returns `Ok`; an `Err` rolls back.
/// Serialization failures and deadlocks re-run the whole transaction.
///
/// A macro rather than a function taking a closure: the body borrows both the
/// transaction and the caller's arguments across `.await`s, which a closure
/// returning a boxed future cannot express without contortions.
macro_rules! write_tx {
    ($store:expr, $operation:expr, |$tx:ident, $now:ident| $body:expr) => {{
        let store: &$crate::postgres::PostgresStore = $store;
        let operation: &'static str = $operation;
        let mut tries = 0;
        loop {
            tries += 1;
            let result: $crate::postgres::error::DbResult<_> = async {
                let mut client = store.client().await?;
                let $tx = client.transaction().await?;
                #[allow(unused_variables)]
                #[allow(unused_variables)]
            let $now = store.now();
                let value = match $body.await {
                    Ok(value) => value,
                    Err(e) => {
                        let _ = $tx.rollback().await;
                        return Err(e);
                    }
                };
                $tx.commit().await?;
                Ok(value)
            }
            .await;
            match result {
                Err(e) if e.is_transient() && tries < $crate::postgres::TRANSACTION_TRIES => {
                    tracing::debug!(operation, error = ?e, "retrying a transaction");
                    continue;
                }
                other => break other.map_err(|e| store.error(e, operation)),
            }
        }
    }};
}

/// Runs `$body` in one `REPEATABLE READ READ ONLY` transaction, so its
/// statements see a single snapshot.
macro_rules! read_tx {
    ($store:expr, $operation:expr, |$tx:ident, $now:ident| $body:expr) => {{
        let store: &$crate::postgres::PostgresStore = $store;
        let operation: &'static str = $operation;
        let result: $crate::postgres::error::DbResult<_> = async {
            let mut client = store.client().await?;
            let $tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            #[allow(unused_variables)]
            let $now = store.now();
            let value = match $body.await {
                Ok(value) => value,
                Err(e) => {
                    // Roll back now rather than leave it to the transaction's
                    // drop, so the connection goes back to the pool clean.
                    let _ = $tx.rollback().await;
                    return Err(e);
                }
            };
            $tx.commit().await?;
            Ok(value)
        }
        .await;
        result.map_err(|e| store.error(e, operation))
    }};
}

pub(crate) use {read_tx, write_tx};
