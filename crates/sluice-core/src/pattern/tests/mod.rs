//! Table-driven checks of the pattern language against the documented
//! semantics: the basics here, then operators, errors and explanations, and
//! the rule set (with a randomized agreement test) in their own files.

mod errors;
mod operators;
mod rule_set;

use super::*;
use serde_json::json;

fn check(pattern: Value, event: Value, expected: bool) {
    let compiled =
        Pattern::compile(&pattern).unwrap_or_else(|e| panic!("{pattern} should compile: {e}"));
    assert_eq!(
        compiled.matches(&event),
        expected,
        "pattern {pattern} on event {event}"
    );
    assert_eq!(
        compiled.mismatch(&event).is_none(),
        expected,
        "explanation agrees for {pattern} on {event}"
    );
    // A rule set (its index and its flat form of the rule) agrees too,
    // alone and among rules anchored elsewhere.
    let mut set = RuleSet::new();
    set.insert(
        "other",
        Pattern::compile(&json!({ "source": ["elsewhere"] })).unwrap(),
    );
    set.insert("this", compiled);
    assert_eq!(
        set.matching(&event) == vec![&"this"],
        expected,
        "rule set agrees for {pattern} on {event}"
    );
}

fn event() -> Value {
    json!({
        "source": "shop.orders",
        "detail-type": "Order Placed",
        "detail": {
            "amount": 42.5,
            "count": 3,
            "currency": "EUR",
            "customer": { "tier": "gold", "email": "Ada@Example.com" },
            "tags": ["rush", "gift"],
            "items": [{ "sku": "A-1", "qty": 1 }, { "sku": "B-2", "qty": 5 }],
            "ip": "10.0.3.7",
            "note": null,
            "file": "reports/2026/q4.csv"
        }
    })
}

/// (pattern, where the error is, a fragment of its message)
fn assert_rejected(cases: &[(Value, &str, &str)]) {
    for (pattern, path, fragment) in cases {
        let err = Pattern::compile(pattern).expect_err(&pattern.to_string());
        assert_eq!(err.path_string(), *path, "{pattern}: {err}");
        assert!(err.to_string().contains(fragment), "{pattern}: {err}");
    }
}

#[test]
fn exact_values_and_any_of() {
    check(json!({ "source": ["shop.orders"] }), event(), true);
    check(json!({ "source": ["other", "shop.orders"] }), event(), true);
    check(json!({ "source": ["other"] }), event(), false);
    check(json!({ "detail": { "count": [3] } }), event(), true);
    check(json!({ "detail": { "count": [3.0] } }), event(), true);
    check(json!({ "detail": { "count": ["3"] } }), event(), false);
    check(json!({ "detail": { "note": [null] } }), event(), true);
    check(json!({ "detail": { "currency": ["eur"] } }), event(), false);
}

#[test]
fn all_fields_must_match() {
    check(
        json!({ "source": ["shop.orders"], "detail-type": ["Order Placed"] }),
        event(),
        true,
    );
    check(
        json!({ "source": ["shop.orders"], "detail-type": ["Order Shipped"] }),
        event(),
        false,
    );
}

#[test]
fn arrays_in_the_event_match_if_any_element_does() {
    check(json!({ "detail": { "tags": ["gift"] } }), event(), true);
    check(json!({ "detail": { "tags": ["slow"] } }), event(), false);
    check(
        json!({ "detail": { "items": { "sku": ["B-2"] } } }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "items": { "qty": [{ "numeric": [">", 4] }] } } }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "items": { "qty": [{ "numeric": [">", 9] }] } } }),
        event(),
        false,
    );
}

#[test]
fn prefix_suffix_and_case() {
    check(json!({ "source": [{ "prefix": "shop." }] }), event(), true);
    check(json!({ "source": [{ "prefix": "Shop." }] }), event(), false);
    check(
        json!({ "source": [{ "prefix": { "equals-ignore-case": "SHOP." } }] }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "file": [{ "suffix": ".csv" }] } }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "file": [{ "suffix": { "equals-ignore-case": ".CSV" } }] } }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "file": [{ "suffix": ".json" }] } }),
        event(),
        false,
    );
    check(
        json!({ "detail": { "customer": { "email": [{ "equals-ignore-case": "ada@example.COM" }] } } }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "count": [{ "prefix": "3" }] } }),
        event(),
        false,
    );
}

#[test]
fn anything_but() {
    check(
        json!({ "detail": { "currency": [{ "anything-but": "USD" }] } }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "currency": [{ "anything-but": ["USD", "EUR"] }] } }),
        event(),
        false,
    );
    check(
        json!({ "detail": { "count": [{ "anything-but": [1, 2] }] } }),
        event(),
        true,
    );
    check(
        json!({ "source": [{ "anything-but": { "prefix": "shop." } }] }),
        event(),
        false,
    );
    check(
        json!({ "source": [{ "anything-but": { "suffix": ".invoices" } }] }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "currency": [{ "anything-but": { "equals-ignore-case": "eur" } }] } }),
        event(),
        false,
    );
    check(
        json!({ "detail": { "missing": [{ "anything-but": "x" }] } }),
        event(),
        false,
    );
}
