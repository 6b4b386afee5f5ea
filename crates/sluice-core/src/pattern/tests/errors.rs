//! Malformed patterns say where and why; mismatches are explained.

use super::*;
use serde_json::json;

#[test]
fn invalid_patterns_say_where_and_why() {
    assert_rejected(&[
        (json!({ "source": "shop" }), "source", "must be in a list"),
        (json!({ "source": [] }), "source", "empty list"),
        (json!({ "detail": {} }), "detail", "empty object"),
        (
            json!({ "detail": { "n": [{ "numeric": [">"] }] } }),
            "detail.n[0].numeric",
            "numeric",
        ),
        (
            json!({ "detail": { "n": [1, { "numeric": ["~", 1] }] } }),
            "detail.n[1].numeric[0]",
            "not one of",
        ),
        (
            json!({ "x": [{ "prefx": "a" }] }),
            "x[0].prefx",
            "unknown operator `prefx`",
        ),
        (
            json!({ "x": [{ "prefix": "a", "suffix": "b" }] }),
            "x[0]",
            "exactly one operator",
        ),
        (
            json!({ "x": [{ "cidr": "10.0.0.0/40" }] }),
            "x[0].cidr",
            "not a CIDR",
        ),
        (json!({ "$or": [{ "a": ["b"] }] }), "$or", "at least two"),
        (
            json!({ "$or": [{ "a": ["b"] }, { "c": { "d": "e" } }] }),
            "$or[1].c.d",
            "must be in a list",
        ),
        (
            json!({ "$or": [{ "a": ["b"] }, []] }),
            "$or[1]",
            "non-empty object",
        ),
        (
            json!({ "x": [{ "exists": "yes" }] }),
            "x[0].exists",
            "true or false",
        ),
        (json!({ "x": [[1]] }), "x[0]", "nested"),
        (json!([]), "", "JSON object"),
    ]);
}

#[test]
fn mismatch_names_the_field_and_the_wanted_values() {
    let pattern = Pattern::compile(&json!({ "detail": { "currency": ["USD", "GBP"] } })).unwrap();
    let why = pattern.mismatch(&event()).unwrap();
    assert!(
        why.contains("`detail.currency`") && why.contains("\"EUR\"") && why.contains("\"USD\""),
        "{why}"
    );
}

#[test]
fn explanations_quote_conditions_in_pattern_syntax_and_name_every_failing_field() {
    // (pattern, event, fragments every explanation must contain)
    let cases: &[(Value, Value, &[&str])] = &[
        (
            json!({ "x": [{ "numeric": [">", 10, "<=", 20.5] }] }),
            json!({ "x": 7 }),
            &[r#"field `x` is 7; the pattern wants {"numeric":[">",10,"<=",20.5]}"#],
        ),
        (
            json!({ "x": [{ "prefix": "a" }, { "suffix": { "equals-ignore-case": "B" } }, "c"] }),
            json!({ "x": "z" }),
            &[r#"{"prefix":"a"} or {"suffix":{"equals-ignore-case":"b"}} or "c""#],
        ),
        (
            json!({ "x": [{ "anything-but": { "prefix": ["a", "b"] } }] }),
            json!({ "x": "apple" }),
            &[r#"{"anything-but":{"prefix":["a","b"]}}"#],
        ),
        (
            json!({ "x": [{ "anything-but": [1, 2] }, { "wildcard": "a\\*b*" }] }),
            json!({ "x": 1 }),
            &[r#"{"anything-but":[1,2]} or {"wildcard":"a\\*b*"}"#],
        ),
        (
            json!({ "x": [{ "exists": true }], "y": [{ "cidr": "10.0.0.0/8" }] }),
            json!({ "x": { "a": 1 }, "y": "192.168.0.1" }),
            &[
                r#"field `x` is an object ({"a":1}), not a value; the pattern wants {"exists":true}"#,
                r#"field `y` is "192.168.0.1"; the pattern wants {"cidr":"10.0.0.0/8"}"#,
            ],
        ),
        (
            json!({ "detail": { "items": { "sku": ["C-3"] } } }),
            event(),
            &[
                "no element of `detail.items` matches",
                r#"field `detail.items[0].sku` is "A-1""#,
                r#"field `detail.items[1].sku` is "B-2""#,
            ],
        ),
        (
            json!({ "$or": [{ "source": ["a"] }, { "detail": { "count": [{ "numeric": ["<", 1] }] } }] }),
            event(),
            &[
                "no `$or` alternative matches: [0] field `source`",
                r#"[1] field `detail.count` is 3; the pattern wants {"numeric":["<",1]}"#,
            ],
        ),
    ];
    for (pattern, event, fragments) in cases {
        let why = Pattern::compile(pattern)
            .unwrap()
            .mismatch(event)
            .expect("no match");
        for fragment in *fragments {
            assert!(
                why.contains(fragment),
                "{pattern}: missing {fragment} in: {why}"
            );
        }
    }
}

#[test]
fn every_failing_field_is_reported_separately() {
    let pattern = Pattern::compile(&json!({
        "source": ["shop.invoices"],
        "detail": { "currency": ["USD"], "count": [3] }
    }))
    .unwrap();
    let reasons = pattern.mismatches(&event());
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    let about = |field: &str| reasons.iter().any(|r| r.contains(field));
    assert!(
        about("`source`") && about("`detail.currency`"),
        "{reasons:?}"
    );
}
