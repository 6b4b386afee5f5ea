//! The backend-agnostic conformance suite: what every [`Warehouse`] must do,
//! run against real databases (PostgreSQL, MariaDB, a SQLite file).
//!
//! A backend's test file expands
//! [`warehouse_conformance_tests!`](crate::warehouse_conformance_tests) with
//! a function building a [`Harness`]; every check shows up as its own test:
//!
//! ```ignore
//! async fn harness() -> Harness { /* URL of a reachable database */ }
//! sluice_sql::warehouse_conformance_tests!(harness);
//! ```
//!
//! Checks create their own tables under unique names and drop them, so
//! several run at once against one database.

mod checks;
mod failures;

pub use checks::*;
pub use failures::*;

use crate::warehouse::{Settings, Warehouse};
use crate::{Dialect, Rows, SqlError};
use arrow_array::RecordBatch;
use futures::StreamExt;
use sluice_spec::TlsMode;
use std::any::Any;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What each check runs against.
pub struct Harness {
    /// The database under test.
    pub url: String,
    /// Root for relative paths.
    pub root: PathBuf,
    pub dialect: Dialect,
    /// A query that runs for several seconds.
    pub slow_sql: String,
    /// A query over `{digits}` (a table with one `d` column holding 0–9)
    /// that returns rows, then fails with a runtime error.
    pub fails_part_way_sql: String,
    /// A query returning a column the backend cannot map (`None` if every
    /// type of the backend maps, as in SQLite).
    pub unmappable_sql: Option<String>,
    /// A URL where no such database answers.
    pub unreachable_url: String,
    /// Whether the server can speak TLS at all (`None`: TLS does not apply).
    pub server_tls: Option<bool>,
    /// A query returning one boolean: is this connection encrypted?
    pub encrypted_sql: Option<String>,
    /// Kept alive as long as the harness (a temporary directory).
    pub guard: Option<Box<dyn Any + Send + Sync>>,
}

impl Harness {
    /// Settings with a small pool and short timeouts.
    pub fn settings(&self) -> Settings {
        Settings {
            name: "warehouse".into(),
            url: self.url.clone(),
            shown: crate::redact(&self.url),
            pool_max: 4,
            pool_min: 0,
            connect_timeout: Duration::from_secs(5),
            query_timeout: None,
            tls: TlsMode::Disable,
            ca_file: None,
            root: self.root.clone(),
        }
    }

    pub fn open_with(&self, settings: Settings) -> Arc<dyn Warehouse> {
        crate::open(settings).expect("open the warehouse")
    }

    pub fn open(&self) -> Arc<dyn Warehouse> {
        self.open_with(self.settings())
    }

    /// A table name no other check uses.
    pub fn table(&self, base: &str) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        format!("sluice_{base}_{}_{n}_{nanos}", std::process::id())
    }

    /// Creates a table `d` of the digits 0–9 and returns its name.
    pub async fn digits(&self, w: &dyn Warehouse) -> String {
        let name = self.table("digits");
        w.execute(&format!("CREATE TABLE {name} (d INTEGER)"))
            .await
            .expect("create digits");
        let values: Vec<String> = (0..10).map(|d| format!("({d})")).collect();
        w.execute(&format!(
            "INSERT INTO {name} (d) VALUES {}",
            values.join(", ")
        ))
        .await
        .expect("insert digits");
        name
    }

    /// Drops a table a check created.
    pub async fn drop_table(&self, w: &dyn Warehouse, name: &str) {
        let _ = w.execute(&format!("DROP TABLE {name}")).await;
    }
}

/// Reads every batch of a result; the error, if the stream ends with one.
pub async fn collect(rows: Rows) -> (Vec<RecordBatch>, Option<SqlError>) {
    let mut batches = Vec::new();
    let mut stream = rows.batches;
    while let Some(next) = stream.next().await {
        match next {
            Ok(batch) => batches.push(batch),
            Err(e) => return (batches, Some(e)),
        }
    }
    (batches, None)
}

/// Runs `sql` and exports it as CSV; returns the file's text.
pub async fn csv_of(w: &dyn Warehouse, sql: &str) -> String {
    let rows = w.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let file = tempfile::tempfile().expect("temporary file");
    let copy = file.try_clone().expect("clone file handle");
    crate::output::export(rows, crate::output::OutputSpec::default(), copy)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    use std::io::{Read, Seek};
    let mut file = file;
    file.rewind().unwrap();
    let mut text = String::new();
    file.read_to_string(&mut text).unwrap();
    text
}

/// Expands into one `#[tokio::test]` per conformance check.
#[macro_export]
macro_rules! warehouse_conformance_tests {
    ($make_harness:expr) => {
        $crate::warehouse_conformance_tests!(@each $make_harness;
            types_map_and_values_read_the_same_everywhere,
            large_results_stream_in_bounded_batches_in_order,
            an_empty_result_keeps_its_columns,
            literals_and_templates_round_trip_hostile_text,
            syntax_errors_say_line_and_column,
            unknown_tables_are_query_errors,
            statements_without_rows_are_refused,
            unmappable_columns_are_refused_before_any_row,
            a_failure_part_way_ends_the_stream_with_the_error,
            query_timeout_cancels_and_frees_the_connection,
            an_abandoned_result_frees_its_connection,
            the_pool_bounds_connections,
            an_unreachable_database_fails_fast_and_clearly,
            a_server_that_never_answers_times_out_clearly,
            tls_that_cannot_be_had_is_an_error_not_a_downgrade,
            tls_prefer_falls_back_to_plain,
        );
    };
    (@each $make_harness:expr; $($check:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let harness: $crate::conformance::Harness = ($make_harness)().await;
                $crate::conformance::$check(harness).await;
            }
        )+
    };
}
