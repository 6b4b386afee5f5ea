//! Queue throughput of the SQLite store against the obvious hand-written queue.
//!
//! ```text
//! cargo run -p sluice-store --release --example queue_bench -- --messages 20000
//! ```
//!
//! Prints a Markdown table of messages per second through enqueue → lease → ack
//! on a file-backed `SqliteStore` (system clock, fresh temporary directory):
//! one message per call, and batches of 100 per call. The baseline is what one
//! would write by hand: a rusqlite table with SQLite's defaults (rollback
//! journal, `synchronous=FULL`), one autocommitted `INSERT` and one
//! `DELETE ... RETURNING` per message. The baseline runs on fewer messages by
//! default (`--naive-messages`) because every statement waits for fsync.
//!
//! With `--postgres URL` the same two scenarios also run on a `PostgresStore`
//! (in a schema of its own, dropped afterwards), e.g.
//! `--postgres postgres://postgres@127.0.0.1:5432/test`.

use serde_json::json;
use sluice_core::time::system_clock;
use sluice_store::postgres::PostgresStore;
use sluice_store::sqlite::SqliteStore;
use sluice_store::{NewMessage, QueueDef, Store};
use std::path::Path;
use std::time::{Duration, Instant};

const BATCH: usize = 100;

struct Options {
    messages: usize,
    naive_messages: usize,
    /// Run only this scenario (`sequential`, `batched` or `naive`), for profiling.
    only: Option<String>,
    /// Also measure a PostgresStore on this database.
    postgres: Option<String>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        messages: 20_000,
        naive_messages: 2_000,
        only: None,
        postgres: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            let value = args.next().ok_or_else(|| format!("{name} needs a value"))?;
            value.parse().map_err(|e| format!("{name} {value}: {e}"))
        };
        match arg.as_str() {
            "--messages" => options.messages = number("--messages")?,
            "--naive-messages" => options.naive_messages = number("--naive-messages")?,
            "--only" => options.only = Some(args.next().ok_or("--only needs a scenario")?),
            "--postgres" => options.postgres = Some(args.next().ok_or("--postgres needs a URL")?),
            "-h" | "--help" => return Err("usage: queue_bench [--messages N] [--naive-messages N] [--only sequential|batched|naive] [--postgres URL]".into()),
            other => return Err(format!("unknown argument {other}; try --help")),
        }
    }
    Ok(options)
}

/// One benchmark row.
struct Measured {
    scenario: String,
    messages: usize,
    elapsed: Duration,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }
}

fn queue_def() -> QueueDef {
    QueueDef {
        name: "bench".into(),
        visibility_timeout_ms: 60_000,
        max_receive_count: 5,
        dead_letter_queue: None,
        concurrency: None,
        dedup_window_ms: 0,
        backoff: Default::default(),
    }
}

fn message(n: usize) -> NewMessage {
    NewMessage {
        queue: "bench".into(),
        body: json!({ "n": n, "payload": "resize image 1024x768" }),
        ..Default::default()
    }
}

async fn open_store(dir: &Path) -> Result<SqliteStore, Box<dyn std::error::Error>> {
    let store = SqliteStore::open(&dir.join("state.db"), system_clock())?;
    store.define_queues(&[queue_def()]).await?;
    Ok(store)
}

/// (a) enqueue → lease → ack, one message and one call each.
async fn one_at_a_time(
    store: &dyn Store,
    label: &str,
    messages: usize,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let started = Instant::now();
    for n in 0..messages {
        store.enqueue(&[message(n)]).await?;
        let leases = store.lease("bench", "bench-worker", 1).await?;
        let receipts: Vec<_> = leases.into_iter().map(|l| l.receipt).collect();
        assert_eq!(receipts.len(), 1, "message {n} was not leased");
        store.ack(&receipts).await?;
    }
    Ok(Measured {
        scenario: format!("{label}, 1 message per call"),
        messages,
        elapsed: started.elapsed(),
    })
}

/// (b) enqueue 100 in one call, lease 100, ack 100.
async fn batched(
    store: &dyn Store,
    label: &str,
    messages: usize,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let started = Instant::now();
    let mut done = 0;
    while done < messages {
        let size = BATCH.min(messages - done);
        let batch: Vec<NewMessage> = (done..done + size).map(message).collect();
        store.enqueue(&batch).await?;
        let leases = store.lease("bench", "bench-worker", size).await?;
        assert_eq!(leases.len(), size, "a batch was not fully leased");
        let receipts: Vec<_> = leases.into_iter().map(|l| l.receipt).collect();
        store.ack(&receipts).await?;
        done += size;
    }
    Ok(Measured {
        scenario: format!("{label}, batches of {BATCH}"),
        messages,
        elapsed: started.elapsed(),
    })
}

/// (c) the naive baseline: SQLite defaults, one statement (and commit) per operation.
fn naive(dir: &Path, messages: usize) -> Result<Measured, Box<dyn std::error::Error>> {
    let conn = rusqlite::Connection::open(dir.join("naive.db"))?;
    conn.execute_batch(
        "CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)",
    )?;
    let started = Instant::now();
    for n in 0..messages {
        let body = serde_json::to_string(&message(n).body)?;
        conn.prepare_cached("INSERT INTO queue (body) VALUES (?1)")?
            .execute([body])?;
        let mut take = conn.prepare_cached(
            "DELETE FROM queue WHERE id = (SELECT id FROM queue ORDER BY id LIMIT 1) RETURNING id, body",
        )?;
        let (_id, _body): (i64, String) =
            take.query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    }
    Ok(Measured {
        scenario: "naive rusqlite (FULL, rollback journal)".to_string(),
        messages,
        elapsed: started.elapsed(),
    })
}

/// The two store scenarios on PostgreSQL, in a schema of their own dropped afterwards.
async fn postgres_rows(
    url: &str,
    options: &Options,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Vec<Measured>, Box<dyn std::error::Error>> {
    let schema = format!("sluice_bench_{}", std::process::id());
    let store = PostgresStore::connect(url, Some(&schema), system_clock()).await?;
    store.define_queues(&[queue_def()]).await?;
    let mut rows = Vec::new();
    if wanted("sequential") {
        rows.push(one_at_a_time(&store, "PostgresStore", options.messages).await?);
    }
    if wanted("batched") {
        rows.push(batched(&store, "PostgresStore", options.messages).await?);
    }
    drop(store);
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await?;
    Ok(rows)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let dir = tempfile::tempdir()?;
    let wanted = |name: &str| options.only.as_deref().is_none_or(|only| only == name);
    let mut rows = Vec::new();
    if wanted("sequential") {
        let store = open_store(&dir.path().join("a")).await?;
        rows.push(one_at_a_time(&store, "SqliteStore", options.messages).await?);
    }
    if wanted("batched") {
        let store = open_store(&dir.path().join("b")).await?;
        rows.push(batched(&store, "SqliteStore", options.messages).await?);
    }
    if let Some(url) = &options.postgres {
        rows.extend(postgres_rows(url, &options, &wanted).await?);
    }
    if wanted("naive") {
        rows.push(naive(dir.path(), options.naive_messages)?);
    }
    let baseline = rows
        .iter()
        .find(|r| r.scenario.starts_with("naive"))
        .map(Measured::rate);
    println!(
        "Queue throughput, enqueue → lease → ack (SQLite {}, files in {})\n",
        rusqlite::version(),
        dir.path().display()
    );
    println!("| scenario | messages | seconds | messages/s | vs naive |");
    println!("|---|---:|---:|---:|---:|");
    for row in &rows {
        let ratio = baseline.map_or("–".to_string(), |base| {
            format!("{:.1}×", row.rate() / base)
        });
        println!(
            "| {} | {} | {:.2} | {:.0} | {ratio} |",
            row.scenario,
            row.messages,
            row.elapsed.as_secs_f64(),
            row.rate()
        );
    }
    let target = 20_000.0;
    if let Some(batched) = rows
        .iter()
        .find(|r| r.scenario.starts_with("SqliteStore") && r.scenario.contains("batches"))
    {
        let verdict = if batched.rate() >= target {
            "meets"
        } else {
            "MISSES"
        };
        println!("\nBatched throughput {verdict} the {target:.0} messages/s target.");
    }
    Ok(())
}
