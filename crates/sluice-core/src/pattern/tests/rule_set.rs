//! The rule set: candidates by anchor, and agreement with each pattern.

use super::*;
use serde_json::json;

#[test]
fn rule_set_returns_every_matching_rule_in_order() {
    let mut rules = RuleSet::new();
    rules.insert(
        "orders",
        Pattern::compile(&json!({ "source": ["shop.orders"] })).unwrap(),
    );
    rules.insert(
        "big",
        Pattern::compile(&json!({ "detail": { "amount": [{ "numeric": [">", 10] }] } })).unwrap(),
    );
    rules.insert(
        "invoices",
        Pattern::compile(&json!({ "source": ["shop.invoices"] })).unwrap(),
    );
    rules.insert(
        "gold",
        Pattern::compile(&json!({ "detail": { "customer": { "tier": ["gold"] } } })).unwrap(),
    );
    assert_eq!(rules.matching(&event()), [&"orders", &"big", &"gold"]);
}

#[test]
fn rule_set_only_verifies_rules_anchored_on_the_events_values() {
    let mut rules = RuleSet::new();
    for i in 0..10_000 {
        rules.insert(
            i,
            Pattern::compile(&json!({ "source": [format!("app.{i}")] })).unwrap(),
        );
    }
    let candidates = |source: &str| {
        let event = json!({ "source": source });
        rules.matching(&event).len()
    };
    assert_eq!(candidates("app.4242"), 1);
    assert_eq!(candidates("nope"), 0);
    assert_eq!(
        rules.unanchored.len(),
        0,
        "every rule with an exact source is indexed"
    );
}

#[test]
fn rules_sharing_a_value_are_anchored_on_the_value_that_tells_them_apart() {
    let mut rules = RuleSet::new();
    for i in 0..1_000 {
        let pattern = json!({ "detail-type": ["Order Placed"], "source": [format!("svc{i}")] });
        rules.insert(i, Pattern::compile(&pattern).unwrap());
    }
    let crowded = rules
        .anchored
        .iter()
        .flat_map(|by_value| by_value.values())
        .map(|candidates| candidates.len())
        .max();
    assert_eq!(crowded, Some(1), "no value anchors more than one rule");
    let event = json!({ "source": "svc7", "detail-type": "Order Placed" });
    assert_eq!(rules.matching(&event), [&7]);
}

#[test]
fn admits_judges_one_top_level_field() {
    let p = |v: Value| Pattern::compile(&v).unwrap();
    let objects = p(json!({ "source": ["sluice.objects"], "detail-type": ["Object Created"] }));
    assert!(objects.admits("source", "sluice.objects"));
    assert!(!objects.admits("source", "sluice.runs"));
    let prefixed = p(json!({ "source": [{ "prefix": "sluice." }] }));
    assert!(prefixed.admits("source", "sluice.objects"));
    let unconstrained = p(json!({ "detail": { "bucket": { "name": ["inbound"] } } }));
    assert!(unconstrained.admits("source", "sluice.objects"));
    let mut set = RuleSet::new();
    set.insert("runs", p(json!({ "source": ["sluice.runs"] })));
    assert!(!set.admits("source", "sluice.objects"));
    set.insert("objects", objects);
    assert!(set.admits("source", "sluice.objects"));
}

#[test]
fn nested_fields_under_an_array_must_match_within_one_element() {
    let pattern =
        json!({ "detail": { "items": { "sku": ["a"], "qty": [{ "numeric": [">", 5] }] } } });
    let split =
        json!({ "detail": { "items": [{ "sku": "a", "qty": 1 }, { "sku": "b", "qty": 10 }] } });
    check(pattern.clone(), split, false);
    let together =
        json!({ "detail": { "items": [{ "sku": "b", "qty": 1 }, { "sku": "a", "qty": 10 }] } });
    check(pattern.clone(), together, true);
    let scalar = json!({ "detail": { "items": "a" } });
    check(pattern, scalar, false);
    check(
        json!({ "detail": { "missing": { "x": [{ "exists": false }] } } }),
        json!({ "detail": {} }),
        true,
    );
}

#[test]
fn a_field_name_containing_a_dot_is_one_field_not_two() {
    let dotted = json!({ "detail": { "a.b": ["x"] } });
    check(dotted.clone(), json!({ "detail": { "a.b": "x" } }), true);
    check(dotted, json!({ "detail": { "a": { "b": "x" } } }), false);
    check(
        json!({ "detail": { "a": { "b": ["x"] } } }),
        json!({ "detail": { "a.b": "x" } }),
        false,
    );
}

/// A tiny deterministic generator (SplitMix64): the agreement test below
/// must be reproducible without a crate for randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

/// Few names and values, so that random patterns and events often meet.
const NAMES: &[&str] = &["a", "b", "a.b", "c"];

fn random_scalar(rng: &mut Rng) -> Value {
    rng.pick(&[
        json!("x"),
        json!("y"),
        json!("x.y"),
        json!("Xy"),
        json!(""),
        json!(1),
        json!(2.5),
        json!(true),
        json!(null),
    ])
}

fn random_condition(rng: &mut Rng) -> Value {
    match rng.below(12) {
        0..=3 => random_scalar(rng),
        4 => json!({ "prefix": rng.pick(&["x", "X"]) }),
        5 => json!({ "suffix": { "equals-ignore-case": "Y" } }),
        6 => json!({ "equals-ignore-case": "xy" }),
        7 => rng.pick(&[
            json!({ "anything-but": "x" }),
            json!({ "anything-but": [1, 2.5] }),
            json!({ "anything-but": { "prefix": "x" } }),
        ]),
        8 => rng.pick(&[
            json!({ "numeric": [">", 1] }),
            json!({ "numeric": [">=", 1, "<", 2.5] }),
            json!({ "numeric": ["=", 2.5] }),
        ]),
        9 => json!({ "exists": rng.below(2) == 0 }),
        10 => json!({ "wildcard": rng.pick(&["x*", "*y", "x*y"]) }),
        _ => json!({ "cidr": "10.0.0.0/8" }),
    }
}

fn random_pattern(rng: &mut Rng, depth: usize) -> Value {
    let mut map = serde_json::Map::new();
    for _ in 0..1 + rng.below(3) {
        let name = rng.pick(NAMES).to_string();
        let field = if depth < 2 && rng.below(3) == 0 {
            random_pattern(rng, depth + 1)
        } else {
            Value::Array(
                (0..1 + rng.below(2))
                    .map(|_| random_condition(rng))
                    .collect(),
            )
        };
        map.insert(name, field);
    }
    if depth < 2 && rng.below(6) == 0 {
        let alternatives = (0..2).map(|_| random_pattern(rng, depth + 1)).collect();
        map.insert("$or".to_string(), Value::Array(alternatives));
    }
    Value::Object(map)
}

fn random_event(rng: &mut Rng, depth: usize) -> Value {
    let mut map = serde_json::Map::new();
    for _ in 0..rng.below(4) {
        let value = match rng.below(if depth < 3 { 6 } else { 3 }) {
            0..=2 => random_scalar(rng),
            3 => random_event(rng, depth + 1),
            4 => Value::Array((0..rng.below(3)).map(|_| random_scalar(rng)).collect()),
            _ => Value::Array(
                (0..rng.below(3))
                    .map(|_| random_event(rng, depth + 1))
                    .collect(),
            ),
        };
        map.insert(rng.pick(NAMES).to_string(), value);
    }
    Value::Object(map)
}

#[test]
fn rule_set_agrees_with_each_pattern_on_random_patterns_and_events() {
    let mut rng = Rng(7);
    let mut set = RuleSet::new();
    let mut patterns = Vec::new();
    while patterns.len() < 400 {
        let json = random_pattern(&mut rng, 0);
        let pattern = Pattern::compile(&json)
            .unwrap_or_else(|e| panic!("generated pattern {json} should compile: {e}"));
        set.insert(patterns.len(), pattern.clone());
        patterns.push((json, pattern));
    }
    let mut matched = 0;
    for _ in 0..3_000 {
        let event = random_event(&mut rng, 0);
        let expected: Vec<usize> = (0..patterns.len())
            .filter(|&i| patterns[i].1.matches(&event))
            .collect();
        let got: Vec<usize> = set.matching(&event).into_iter().copied().collect();
        assert_eq!(got, expected, "rule set and patterns disagree on {event}");
        // Explaining is slower; a quarter of the patterns suffices.
        for (json, pattern) in &patterns[..100] {
            assert_eq!(
                pattern.mismatch(&event).is_none(),
                pattern.matches(&event),
                "explanation disagrees for {json} on {event}"
            );
        }
        matched += expected.len();
    }
    assert!(
        matched > 1_000,
        "the test exercises matches too ({matched})"
    );
}
