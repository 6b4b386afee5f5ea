//! The warehouse conformance suite against a SQLite file in a temporary directory.

use sluice_sql::conformance::Harness;
use sluice_sql::Dialect;

async fn harness() -> Harness {
    let dir = tempfile::tempdir().expect("temporary directory");
    Harness {
        url: "sqlite:warehouse.db?mode=rwc".into(),
        root: dir.path().to_path_buf(),
        dialect: Dialect::Sqlite,
        // Counts forever; only an interrupt stops it.
        slow_sql: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                   SELECT max(x) AS slept FROM c"
            .into(),
        // abs() of the smallest integer overflows, at n = 50000.
        fails_part_way_sql:
            "SELECT n, abs(CASE WHEN n = 50000 THEN -9223372036854775807 - 1 ELSE n END) AS x \
            FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n \
            FROM {digits} a, {digits} b, {digits} c, {digits} e, {digits} f ORDER BY n)"
                .into(),
        unmappable_sql: None,
        unreachable_url: "sqlite:no/such/directory/warehouse.db".into(),
        server_tls: None,
        encrypted_sql: None,
        guard: Some(Box::new(dir)),
    }
}

sluice_sql::warehouse_conformance_tests!(harness);
