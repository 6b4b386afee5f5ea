//! Shared fixtures: seed 002's `students` table and backends to run against.
#![allow(dead_code)]

use sluice_tables::TableSchema;
use std::sync::Arc;

/// `students`: key (student_id, course), like the article's DynamoDB table.
pub fn students() -> Arc<TableSchema> {
    let yaml = r#"
columns:
  student_id: { type: string, required: true, regex: "S[0-9]{4,}" }
  course: { type: string, required: true, enum: [math, physics, chemistry, biology] }
  first_name: { type: string, required: true, max_length: 40 }
  last_name: { type: string, required: true }
  grade: { type: integer, min: 0, max: 100 }
  fee: { type: decimal }
  enrolled: { type: date }
  active: { type: boolean }
key: { partition: student_id, sort: course }
"#;
    let table: sluice_spec::Table = serde_yaml_ng::from_str(yaml).expect("table yaml");
    Arc::new(TableSchema::compile("students", &table).expect("compile"))
}

/// The PostgreSQL URL for tests; they fail when it cannot be reached.
pub fn postgres_url() -> String {
    std::env::var("SLUICE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh schema name so parallel tests never share tables.
pub fn fresh_schema() -> String {
    format!("tables_test_{}", uuid_like())
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{:x}_{}_{}",
        nanos,
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
