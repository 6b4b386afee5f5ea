//! The warehouse conformance suite against PostgreSQL at
//! `SLUICE_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`);
//! an unreachable server fails the tests.

use sluice_sql::conformance::Harness;
use sluice_sql::Dialect;

async fn harness() -> Harness {
    let url = std::env::var("SLUICE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    Harness {
        url,
        root: std::env::temp_dir(),
        dialect: Dialect::Postgres,
        slow_sql: "SELECT 1 AS slept FROM pg_sleep(30)".into(),
        fails_part_way_sql: "SELECT n, 1 / (50000 - n) AS x FROM generate_series(1, 100000) AS n"
            .into(),
        unmappable_sql: Some("SELECT point(1, 2) AS shape".into()),
        unreachable_url: "postgres://postgres@127.0.0.1:9/test".into(),
        // The local server has TLS with a self-signed certificate.
        server_tls: Some(true),
        encrypted_sql: Some("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()".into()),
        guard: None,
    }
}

sluice_sql::warehouse_conformance_tests!(harness);
