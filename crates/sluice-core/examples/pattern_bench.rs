//! Event-pattern matching throughput: events per second on one core for a
//! `RuleSet` of 1, 100 and 10,000 rules, against the obvious alternative
//! (trying every pattern on every event). Run in release:
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
        "detail": { "order": n, "amount": (n % 200) as f64, "region": if n % 3 == 0 { "us-east-1" } else { "eu-west-1" } },
    })
}

/// Events per second over at least `min` of work, and matches per event.
fn measure(
    events: &[Value],
    min: Duration,
    mut match_one: impl FnMut(&Value) -> usize,
) -> (f64, f64) {
    let start = Instant::now();
    let (mut done, mut matched) = (0usize, 0usize);
    while start.elapsed() < min {
        for e in events {
            matched += match_one(e);
        }
        done += events.len();
    }
    (
        done as f64 / start.elapsed().as_secs_f64(),
        matched as f64 / done as f64,
    )
}

fn main() {
    let events: Vec<Value> = (0..10_000).map(|n| event(n, 10_000)).collect();
    println!("| rules | RuleSet (events/s, 1 core) | every pattern tried (events/s) | matches per event |");
    println!("|---:|---:|---:|---:|");
    for n in [1usize, 100, 10_000] {
        let patterns: Vec<Pattern> = (0..n)
            .map(|i| Pattern::compile(&rule(i)).unwrap())
            .collect();
        let mut set = RuleSet::new();
        for (i, p) in patterns.iter().enumerate() {
            set.insert(i, p.clone());
        }
        let (indexed, per_event) =
            measure(&events, Duration::from_secs(2), |e| set.matching(e).len());
        let naive_events = if n >= 10_000 {
            &events[..200]
        } else {
            &events[..]
        };
        let (naive, _) = measure(naive_events, Duration::from_secs(2), |e| {
            patterns.iter().filter(|p| p.matches(e)).count()
        });
        println!("| {n} | {indexed:.0} | {naive:.0} | {per_event:.3} |");
    }
}
