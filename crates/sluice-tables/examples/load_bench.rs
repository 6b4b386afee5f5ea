//! Loads one CSV file of seed 002's shape into a `students` table with
//! `load_csv`, as the `csv-load` step does, and prints rows/s and peak memory.
//!
//!   cargo run --release -p sluice-tables --example load_bench -- sqlite FILE [DB]
//!   cargo run --release -p sluice-tables --example load_bench -- postgres FILE URL
//!
//! Output (one line, for bench/csv_bench.sh): `rows SECONDS PEAK_RSS_KIB`.

use sluice_spec::LoadPolicy;
use sluice_tables::backend::postgres::PostgresTables;
use sluice_tables::backend::sqlite::SqliteTables;
use sluice_tables::csv::CsvFormat;
use sluice_tables::{load_csv, LoadRequest, LoadStatus, TableBackend, TableSchema};
use std::sync::Arc;
use std::time::Instant;

const TABLE: &str = r#"
columns:
  student_id: { type: string, required: true, regex: "S[0-9]{7}" }
  first_name: { type: string, required: true, max_length: 50 }
  last_name: { type: string, required: true, max_length: 50 }
  course: { type: string, required: true, enum: [math, physics, chemistry, biology, history] }
key: { partition: student_id, sort: course }
"#;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (kind, file) = (args[1].as_str(), &args[2]);
    let table: sluice_spec::Table = serde_yaml_ng::from_str(TABLE).unwrap();
    let schema = Arc::new(TableSchema::compile("students", &table).unwrap());
    let backend: Box<dyn TableBackend> = match kind {
        "sqlite" => Box::new(SqliteTables::open(std::path::Path::new(&args[3])).unwrap()),
        "postgres" => Box::new(
            PostgresTables::connect(&args[3], Some("bench_tables"), 2)
                .await
                .unwrap(),
        ),
        other => panic!("unknown backend {other}"),
    };
    backend.ensure_table(&schema).await.unwrap();
    let request = LoadRequest {
        policy: LoadPolicy::AllOrNothing,
        batch_size: 10_000,
        source: file.clone(),
        fingerprint: format!("bench-{}", std::process::id()),
        run_id: "bench".into(),
        progress: None,
    };
    let read = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(file).unwrap());
    let started = Instant::now();
    let report = load_csv(
        read,
        schema,
        CsvFormat::default(),
        &*backend,
        &request,
        std::io::sink(),
    )
    .await
    .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(report.status, LoadStatus::Loaded, "{report:?}");
    println!("{} {seconds:.3} {}", report.rows_loaded, peak_rss_kib());
}
