//! Shared by the PostgreSQL test files: the server to test against, fresh
//! schemas per test, and their cleanup. If the server is unreachable the tests
//! fail, naming the URL and the variable that sets it: a green run must mean
//! the PostgreSQL backend was really tested.

#![allow(dead_code)] // each test file uses part of it

use sluice_core::time::Clock;
use sluice_store::postgres::PostgresStore;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

pub const URL_VARIABLE: &str = "SLUICE_TEST_POSTGRES_URL";
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn url() -> String {
    std::env::var(URL_VARIABLE).unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// A schema name no other test (in this or a concurrent run) uses.
pub fn unique_schema() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "sluice_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Drops its schema when dropped (also when the test panicked).
pub struct DropSchema {
    pub url: String,
    pub schema: String,
}

impl Drop for DropSchema {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on:
        // do the cleanup on a thread of its own with a runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .ok()?;
                tokio::spawn(connection);
                // A test that panicked mid-transaction leaves its connection
                // "idle in transaction": its rollback would run on the test's
                // runtime, which this very drop is blocking. End those sessions
                // (they carry the schema as application name) so the drop
                // does not wait for them forever.
                client
                    .execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                         WHERE application_name = $1 AND pid <> pg_backend_pid()",
                        &[&schema],
                    )
                    .await
                    .ok()?;
                client
                    .batch_execute(&format!(
                        "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {schema} CASCADE"
                    ))
                    .await
                    .ok()
            })
        });
        if cleanup.join().ok().flatten().is_none() {
            eprintln!("note: could not drop test schema {}", self.schema);
        }
    }
}

/// A store on a fresh schema, and the guard that drops the schema.
pub async fn fresh_store(clock: Arc<dyn Clock>) -> (PostgresStore, DropSchema) {
    let url = url();
    let schema = unique_schema();
    let guard = DropSchema {
        url: url.clone(),
        schema: schema.clone(),
    };
    (connect(&url, &schema, clock).await, guard)
}

/// `url` with the schema as application name, so [`DropSchema`] can find the
/// store's sessions.
pub fn tagged(url: &str, schema: &str) -> String {
    if url.contains("://") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}application_name={schema}")
    } else {
        format!("{url} application_name={schema}")
    }
}

pub async fn connect(url: &str, schema: &str, clock: Arc<dyn Clock>) -> PostgresStore {
    match PostgresStore::connect(&tagged(url, schema), Some(schema), clock).await {
        Ok(store) => store,
        // The store's error names the server without the password.
        Err(e) => panic!(
            "the PostgreSQL tests need a server ({URL_VARIABLE}, default {DEFAULT_URL}): {e}\n\
             Start PostgreSQL there, or set {URL_VARIABLE} to the URL of a database these tests may \
             create schemas in."
        ),
    }
}
