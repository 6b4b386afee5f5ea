//! Support for the warehouse extract tests: seeded tables in the real
//! PostgreSQL (`psql`) and MariaDB (`mysql`), each under names of its own and
//! dropped afterwards, and the aws CLI against a running server's buckets.

#![allow(dead_code)]

use crate::common::Server;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The seeded tables, qualified as a query names them.
pub struct Tables {
    pub customers: String,
    pub orders: String,
}

enum Kind {
    Postgres { schema: String },
    MariaDb,
}

/// A database with two seeded tables: customers 1–3 (Ada, Bob, Chloé) and
/// five orders, three placed in 2020 and two in 2100.
pub struct Database {
    pub url: String,
    pub tables: Tables,
    kind: Kind,
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{}_{nanos}", std::process::id())
}

fn run(program: &str, args: &[&str], input: &str) {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program} (is it installed?): {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{program} failed (is the database running?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn psql(sql: &str) {
    let url = "postgres://postgres@127.0.0.1:5432/test";
    run("psql", &[url, "-v", "ON_ERROR_STOP=1", "-q"], sql);
}

fn mysql(sql: &str) {
    run(
        "mysql",
        &["-h", "127.0.0.1", "-P", "3306", "-u", "root", "test"],
        sql,
    );
}

const ROWS: &str = "
INSERT INTO {c} (id, name) VALUES (1, 'Ada'), (2, 'Bob'), (3, 'Chloé');
INSERT INTO {o} (id, customer_id, amount, placed_at) VALUES
  (1, 1, 10.50, '2020-01-01 10:00:00'), (2, 2, 20.00, '2020-01-02 10:00:00'),
  (3, 3, 30.25, '2020-01-03 10:00:00'), (4, 1, 99.99, '2100-01-01 10:00:00'),
  (5, 2, 5.00, '2100-01-02 10:00:00');
";

impl Database {
    pub fn postgres() -> Database {
        let schema = format!("sluice_extract_{}", unique());
        let tables = Tables {
            customers: format!("{schema}.customers"),
            orders: format!("{schema}.orders"),
        };
        psql(&format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {c} (id integer PRIMARY KEY, name text NOT NULL);
             CREATE TABLE {o} (id bigint PRIMARY KEY, customer_id integer, amount numeric(10,2), placed_at timestamptz);
             {rows}",
            c = tables.customers,
            o = tables.orders,
            rows = ROWS.replace("{c}", &tables.customers).replace("{o}", &tables.orders),
        ));
        Database {
            url: "postgres://postgres@127.0.0.1:5432/test".into(),
            tables,
            kind: Kind::Postgres { schema },
        }
    }

    pub fn mariadb() -> Database {
        let prefix = format!("sluice_extract_{}", unique());
        let tables = Tables {
            customers: format!("{prefix}_customers"),
            orders: format!("{prefix}_orders"),
        };
        mysql(&format!(
            "CREATE TABLE {c} (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL) DEFAULT CHARSET=utf8mb4;
             CREATE TABLE {o} (id BIGINT PRIMARY KEY, customer_id INT, amount DECIMAL(10,2), placed_at DATETIME);
             {rows}",
            c = tables.customers,
            o = tables.orders,
            rows = ROWS.replace("{c}", &tables.customers).replace("{o}", &tables.orders),
        ));
        Database {
            url: "mysql://root@127.0.0.1:3306/test".into(),
            tables,
            kind: Kind::MariaDb,
        }
    }

    /// Checks the extract of `SELECT id, name … WHERE id >= 2`.
    pub fn check_customers(&self, object: &[u8], format: &str, compression: &str) {
        match (format, compression) {
            ("csv", "none") => {
                assert_eq!(String::from_utf8_lossy(object), "id,name\n2,Bob\n3,Chloé\n")
            }
            ("parquet", _) => {
                assert!(
                    object.starts_with(b"PAR1") && object.ends_with(b"PAR1"),
                    "a Parquet file"
                )
            }
            other => panic!("no check for {other:?}"),
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        match &self.kind {
            Kind::Postgres { schema } => psql(&format!("DROP SCHEMA {schema} CASCADE")),
            Kind::MariaDb => mysql(&format!(
                "DROP TABLE {}, {}",
                self.tables.customers, self.tables.orders
            )),
        }
    }
}

/// Writes files (any bytes) into `dir`.
pub fn write_files(dir: &Path, files: &[(&str, &[u8])]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// The aws CLI against `server`'s S3 endpoint, with the keys it generated.
pub fn aws(server: &Server, args: &[&str]) -> std::process::Output {
    let credentials: Value = serde_json::from_slice(
        &std::fs::read(server.data_dir.join("s3-credentials.json")).unwrap(),
    )
    .unwrap();
    let key = &credentials[0];
    let out = Command::new("aws")
        .arg("--endpoint-url")
        .arg(&server.s3)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", key["access_key_id"].as_str().unwrap())
        .env(
            "AWS_SECRET_ACCESS_KEY",
            key["secret_access_key"].as_str().unwrap(),
        )
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run the aws CLI (pip install awscli)");
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn upload_dir(server: &Server, dir: &Path, to: &str) {
    aws(
        server,
        &[
            "s3",
            "cp",
            "--recursive",
            "--quiet",
            dir.to_str().unwrap(),
            to,
        ],
    );
}

pub fn upload_file(server: &Server, file: &Path, to: &str) {
    aws(server, &["s3", "cp", "--quiet", file.to_str().unwrap(), to]);
}

/// The keys in a bucket, sorted.
pub fn object_keys(server: &Server, bucket: &str) -> Vec<String> {
    let out = aws(server, &["s3api", "list-objects-v2", "--bucket", bucket]);
    let listing: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let mut keys: Vec<String> = listing["Contents"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|o| o["Key"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    keys
}

/// How many versions `key` has.
pub fn versions(server: &Server, bucket: &str, key: &str) -> usize {
    let out = aws(
        server,
        &[
            "s3api",
            "list-object-versions",
            "--bucket",
            bucket,
            "--prefix",
            key,
        ],
    );
    let listing: Value = serde_json::from_slice(&out.stdout).unwrap();
    listing["Versions"]
        .as_array()
        .map_or(0, |v| v.iter().filter(|o| o["Key"] == key).count())
}

/// An object's bytes.
pub fn fetch(server: &Server, bucket: &str, key: &str) -> Vec<u8> {
    aws(server, &["s3", "cp", &format!("s3://{bucket}/{key}"), "-"]).stdout
}

/// Every log line of a run, in order.
pub fn run_logs(server: &Server, run_id: &str) -> Vec<Value> {
    let mut lines = Vec::new();
    let mut after = 0;
    loop {
        let page = server.get(&format!("/v1/runs/{run_id}/logs?after={after}"));
        let batch = page["lines"].as_array().cloned().unwrap_or_default();
        if batch.is_empty() {
            return lines;
        }
        after = page["next_after"].as_i64().unwrap_or(after);
        lines.extend(batch);
    }
}
