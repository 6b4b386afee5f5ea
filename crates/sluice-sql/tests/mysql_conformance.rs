//! The warehouse conformance suite against MariaDB (or MySQL) at
//! `SLUICE_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`);
//! an unreachable server fails the tests.

use sluice_sql::conformance::Harness;
use sluice_sql::Dialect;

async fn harness() -> Harness {
    let url = std::env::var("SLUICE_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    Harness {
        url,
        root: std::env::temp_dir(),
        dialect: Dialect::MySql,
        slow_sql: "SELECT SLEEP(30) AS slept".into(),
        // A scalar subquery that returns two rows once n passes 50000.
        fails_part_way_sql:
            "SELECT n, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE n > 50000) AS x \
            FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n \
            FROM {digits} a, {digits} b, {digits} c, {digits} e, {digits} f) AS numbers"
                .into(),
        unmappable_sql: Some("SELECT ST_GeomFromText('POINT(1 1)') AS shape".into()),
        unreachable_url: "mysql://root@127.0.0.1:9/test".into(),
        server_tls: Some(false),
        encrypted_sql: None,
        guard: None,
    }
}

sluice_sql::warehouse_conformance_tests!(harness);
