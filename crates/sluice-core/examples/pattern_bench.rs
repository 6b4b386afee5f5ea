//! Event-pattern matching throughput: events per second on one core for a
//! `RuleSet` of 1, 100 and 10,000 rules, against the obvious alternative
//! (trying every pattern on every event). Events arrive as the bus receives
//! them, in batches of 10 parsed from JSON, and are matched right after
//! parsing; the table gives the rate of matching alone and of parsing plus
//! matching. Run in release:
//! `cargo run --release -p sluice-core --example pattern_bench`.

use serde_json::{json, Value};
use sluice_core::pattern::{Pattern, RuleSet};
use std::time::{Duration, Instant};

/// Rule `i`: one service's large orders in Europe.
fn rule(i: usize) -> Value {
    json!({
        "source": [format!("shop.service{i}")],
        "detail-type": ["Order Placed"],
        "detail": {
            "amount": [{ "numeric": [">", (i % 100) as f64] }],
            "region": [{ "prefix": "eu-" }],
        },
    })
}

/// Event `n`, from one of `services` services; about half match their rule.
fn event(n: usize, services: usize) -> Value {
    json!({
        "version": "0",
        "id": format!("evt-{n}"),
        "source": format!("shop.service{}", (n * 7919) % services),
        "detail-type": "Order Placed",
        "account": "sluice",
        "time": "2026-11-23T10:00:00Z",
        "region": "local",
        "resources": [],
        "detail": { "order": n, "amount": (n % 200) as f64, "region": if n.is_multiple_of(3) { "us-east-1" } else { "eu-west-1" } },
    })
}

/// Events per request, as in a `PutEvents` call.
const BATCH: usize = 10;

/// Throughput of `match_one` over `bodies` as the bus sees them: each batch
/// parsed from its request body, then matched while it is fresh. Returns
/// (events/s counting matching time only, events/s counting parsing too,
/// matches per event).
fn measure(
    bodies: &[String],
    min: Duration,
    mut match_one: impl FnMut(&Value) -> usize,
) -> (f64, f64, f64) {
    let start = Instant::now();
    let (mut done, mut matched, mut matching) = (0usize, 0usize, Duration::ZERO);
    while start.elapsed() < min {
        for body in bodies {
            let batch: Vec<Value> = serde_json::from_str(body).expect("valid batch");
            let t = Instant::now();
            for event in &batch {
                matched += match_one(event);
            }
            matching += t.elapsed();
            done += batch.len();
        }
    }
    (
        done as f64 / matching.as_secs_f64(),
        done as f64 / start.elapsed().as_secs_f64(),
        matched as f64 / done as f64,
    )
}

fn main() {
    let events: Vec<Value> = (0..10_000).map(|n| event(n, 10_000)).collect();
    let bodies: Vec<String> = events
        .chunks(BATCH)
        .map(|batch| serde_json::to_string(batch).expect("serializable"))
        .collect();
    let indexed_only = std::env::args().any(|a| a == "--indexed-only");
    println!("| rules | RuleSet: matching (events/s, 1 core) | RuleSet: parsing + matching (events/s) | every pattern tried: matching (events/s) | matches per event |");
    println!("|---:|---:|---:|---:|---:|");
    // `--rules N` measures one size only (for profiling).
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = match args.iter().position(|a| a == "--rules") {
        Some(i) => vec![args[i + 1].parse().expect("--rules N")],
        None => vec![1, 100, 10_000],
    };
    for n in sizes {
        let patterns: Vec<Pattern> = (0..n)
            .map(|i| Pattern::compile(&rule(i)).unwrap())
            .collect();
        let mut set = RuleSet::new();
        for (i, p) in patterns.iter().enumerate() {
            set.insert(i, p.clone());
        }
        let (indexed, with_parsing, per_event) =
            measure(&bodies, Duration::from_secs(2), |e| set.matching(e).len());
        if indexed_only {
            println!("| {n} | {indexed:.0} | {with_parsing:.0} | - | {per_event:.3} |");
            continue;
        }
        let naive_bodies = if n >= 10_000 {
            &bodies[..20]
        } else {
            &bodies[..]
        };
        let (naive, _, _) = measure(naive_bodies, Duration::from_secs(2), |e| {
            patterns.iter().filter(|p| p.matches(e)).count()
        });
        println!("| {n} | {indexed:.0} | {with_parsing:.0} | {naive:.0} | {per_event:.3} |");
    }
}
