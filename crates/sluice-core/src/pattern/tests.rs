//! Table-driven checks of the pattern language against the documented semantics.

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

#[test]
fn anything_but_lists_of_text_operators() {
    let on = |v: &str| json!({ "x": v });
    let cases = [
        (
            json!({ "anything-but": { "prefix": ["a", "b"] } }),
            "apple",
            false,
        ),
        (
            json!({ "anything-but": { "prefix": ["a", "b"] } }),
            "banana",
            false,
        ),
        (
            json!({ "anything-but": { "prefix": ["a", "b"] } }),
            "cherry",
            true,
        ),
        (
            json!({ "anything-but": { "suffix": [".png", ".jpg"] } }),
            "x.jpg",
            false,
        ),
        (
            json!({ "anything-but": { "suffix": [".png", ".jpg"] } }),
            "x.gif",
            true,
        ),
        (
            json!({ "anything-but": { "equals-ignore-case": ["Ab", "CD"] } }),
            "cd",
            false,
        ),
        (
            json!({ "anything-but": { "equals-ignore-case": ["Ab", "CD"] } }),
            "ef",
            true,
        ),
        (
            json!({ "anything-but": { "wildcard": "*.tmp" } }),
            "a.tmp",
            false,
        ),
        (
            json!({ "anything-but": { "wildcard": ["*.tmp", "~*"] } }),
            "~a",
            false,
        ),
        (
            json!({ "anything-but": { "wildcard": ["*.tmp", "~*"] } }),
            "a.txt",
            true,
        ),
    ];
    for (condition, value, expected) in cases {
        check(json!({ "x": [condition] }), on(value), expected);
    }
}

#[test]
fn anything_but_rejects_what_eventbridge_rejects() {
    assert_rejected(&[
        (
            json!({ "x": [{ "anything-but": [] }] }),
            "x[0].anything-but",
            "at least one",
        ),
        (
            json!({ "x": [{ "anything-but": ["a", 1] }] }),
            "x[0].anything-but",
            "not a mix",
        ),
        (
            json!({ "x": [{ "anything-but": ["a", null] }] }),
            "x[0].anything-but[1]",
            "not null",
        ),
        (
            json!({ "x": [{ "anything-but": [true] }] }),
            "x[0].anything-but[0]",
            "not true",
        ),
        (
            json!({ "x": [{ "anything-but": null }] }),
            "x[0].anything-but",
            "not null",
        ),
        (
            json!({ "x": [{ "anything-but": false }] }),
            "x[0].anything-but",
            "not false",
        ),
        (
            json!({ "x": [{ "anything-but": { "prefix": "" } }] }),
            "x[0].anything-but.prefix",
            "empty",
        ),
        (
            json!({ "x": [{ "anything-but": { "suffix": ["a", ""] } }] }),
            "x[0].anything-but.suffix[1]",
            "empty",
        ),
        (
            json!({ "x": [{ "anything-but": { "prefix": [1] } }] }),
            "x[0].anything-but.prefix[0]",
            "takes strings",
        ),
        (
            json!({ "x": [{ "anything-but": { "prefix": [] } }] }),
            "x[0].anything-but.prefix",
            "non-empty list",
        ),
        (
            json!({ "x": [{ "anything-but": { "numeric": [">", 1] } }] }),
            "x[0].anything-but.numeric",
            "cannot apply `numeric`",
        ),
        (
            json!({ "x": [{ "anything-but": { "prefix": "a", "suffix": "b" } }] }),
            "x[0].anything-but",
            "one of",
        ),
    ]);
}

#[test]
fn numeric_ranges() {
    check(
        json!({ "detail": { "amount": [{ "numeric": [">", 0, "<=", 42.5] }] } }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "amount": [{ "numeric": [">", 42.5] }] } }),
        event(),
        false,
    );
    check(
        json!({ "detail": { "count": [{ "numeric": ["=", 3] }] } }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "currency": [{ "numeric": [">", 0] }] } }),
        event(),
        false,
    );
}

#[test]
fn numeric_shapes() {
    let cases = [
        (json!(["<", 5]), 4.9, true),
        (json!(["<=", 5]), 5.0, true),
        (json!([">=", 5]), 5.0, true),
        (json!([">", 5, "<", 6]), 5.5, true),
        (json!([">", 5, "<", 6]), 6.0, false),
        (json!([">=", -1.5, "<=", -1]), -1.0, true),
        (json!(["=", 0.000001]), 0.000001, true),
        (json!([">", 0]), 6.0e9, false),
    ];
    for (bounds, value, expected) in cases {
        check(
            json!({ "x": [{ "numeric": bounds }] }),
            json!({ "x": value }),
            expected,
        );
    }
}

#[test]
fn numeric_rejects_shapes_eventbridge_rejects() {
    let at = |i: usize| format!("x[0].numeric[{i}]");
    let shape = "numeric` takes";
    assert_rejected(&[
        (json!({ "x": [{ "numeric": [] }] }), "x[0].numeric", shape),
        (
            json!({ "x": [{ "numeric": [">", 1, "<"] }] }),
            "x[0].numeric",
            shape,
        ),
        (
            json!({ "x": [{ "numeric": [">", 1, "<", 5, "<", 6] }] }),
            "x[0].numeric",
            shape,
        ),
        (
            json!({ "x": [{ "numeric": ["<", 5, ">", 1] }] }),
            "x[0].numeric",
            shape,
        ),
        (
            json!({ "x": [{ "numeric": [">", 1, ">", 2] }] }),
            "x[0].numeric",
            shape,
        ),
        (
            json!({ "x": [{ "numeric": ["=", 1, "<", 2] }] }),
            "x[0].numeric",
            shape,
        ),
        (
            json!({ "x": [{ "numeric": [">", 5, "<", 5] }] }),
            "x[0].numeric",
            "empty",
        ),
        (
            json!({ "x": [{ "numeric": "> 5" }] }),
            "x[0].numeric",
            shape,
        ),
        (
            json!({ "x": [{ "numeric": [">", "5"] }] }),
            &at(1),
            "not a number",
        ),
        (
            json!({ "x": [{ "numeric": ["!=", 5] }] }),
            &at(0),
            "not one of",
        ),
        (
            json!({ "x": [{ "numeric": [">", 5.0e9 + 1.0] }] }),
            &at(1),
            "outside",
        ),
        (
            json!({ "x": [{ "numeric": [">", 0, "<", -6.0e9] }] }),
            &at(3),
            "outside",
        ),
        (
            json!({ "x": [{ "numeric": ["=", 0.0000001] }] }),
            &at(1),
            "6 decimals",
        ),
    ]);
}

#[test]
fn exists() {
    check(
        json!({ "detail": { "currency": [{ "exists": true }] } }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "refund": [{ "exists": false }] } }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "refund": [{ "exists": true }] } }),
        event(),
        false,
    );
    check(
        json!({ "detail": { "note": [{ "exists": true }] } }),
        event(),
        true,
    );
    check(
        json!({ "shipping": { "carrier": [{ "exists": false }] } }),
        event(),
        true,
    );
}

#[test]
fn exists_applies_to_leaf_values_only() {
    // (field value, matches `exists: true`); `exists: false` is the opposite.
    let cases = [
        (json!("x"), true),
        (json!(0), true),
        (json!(false), true),
        (json!(null), true),
        (json!(["x"]), true),
        (json!([[1]]), true),
        (json!([{ "y": 1 }, 2]), true),
        (json!({ "y": 1 }), false),
        (json!([]), false),
        (json!([[]]), false),
        (json!([{ "y": 1 }]), false),
    ];
    for (value, exists) in cases {
        let event = json!({ "detail": { "x": value } });
        check(
            json!({ "detail": { "x": [{ "exists": true }] } }),
            event.clone(),
            exists,
        );
        check(
            json!({ "detail": { "x": [{ "exists": false }] } }),
            event,
            !exists,
        );
    }
}

#[test]
fn objects_are_not_values_and_arrays_of_arrays_are_flattened() {
    let object = json!({ "x": { "y": "a" } });
    check(
        json!({ "x": [{ "anything-but": "b" }] }),
        object.clone(),
        false,
    );
    check(json!({ "x": [{ "numeric": [">", 0] }] }), object, false);
    check(json!({ "x": ["a"] }), json!({ "x": [["b"], ["a"]] }), true);
    check(
        json!({ "x": { "y": ["a"] } }),
        json!({ "x": [[{ "y": "b" }], [{ "y": "a" }]] }),
        true,
    );
    check(
        json!({ "x": { "y": [{ "exists": false }] } }),
        json!({ "x": [] }),
        true,
    );
}

#[test]
fn wildcard() {
    check(
        json!({ "detail": { "file": [{ "wildcard": "reports/*/q4.csv" }] } }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "file": [{ "wildcard": "reports/*.csv" }] } }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "file": [{ "wildcard": "*q4*" }] } }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "file": [{ "wildcard": "reports/*/q3.csv" }] } }),
        event(),
        false,
    );
    check(
        json!({ "detail": { "file": [{ "wildcard": "reports" }] } }),
        event(),
        false,
    );
    check(
        json!({ "x": [{ "wildcard": "a\\*b" }] }),
        json!({ "x": "a*b" }),
        true,
    );
    check(
        json!({ "x": [{ "wildcard": "a\\*b" }] }),
        json!({ "x": "azzb" }),
        false,
    );
    check(
        json!({ "x": [{ "wildcard": "ab*ba" }] }),
        json!({ "x": "aba" }),
        false,
    );
}

#[test]
fn wildcard_escapes() {
    // Raw glob text (as it is after JSON decoding), value, matches.
    let cases = [
        (r"a\*b", "a*b", true),
        (r"a\*b", "axb", false),
        (r"a\\*", r"a\", true),
        (r"a\\*", r"a\zz", true),
        (r"a\\*", "azz", false),
        (r"\**", "*anything", true),
        (r"\**", "anything", false),
        (r"*\*", "x*", true),
        ("*", "", true),
        ("a*", "a", true),
    ];
    for (glob, value, expected) in cases {
        check(
            json!({ "x": [{ "wildcard": glob }] }),
            json!({ "x": value }),
            expected,
        );
    }
}

#[test]
fn wildcard_rejects_consecutive_stars_and_bad_escapes() {
    assert_rejected(&[
        (
            json!({ "x": [{ "wildcard": "a**b" }] }),
            "x[0].wildcard",
            "consecutive `*`",
        ),
        (
            json!({ "x": [{ "wildcard": r"a\\**" }] }),
            "x[0].wildcard",
            "consecutive `*`",
        ),
        (
            json!({ "x": [{ "wildcard": r"a\b" }] }),
            "x[0].wildcard",
            "invalid escape",
        ),
        (
            json!({ "x": [{ "wildcard": "a\\" }] }),
            "x[0].wildcard",
            "invalid escape",
        ),
        (
            json!({ "x": [{ "anything-but": { "wildcard": ["a*", "**"] } }] }),
            "x[0].anything-but.wildcard[1]",
            "consecutive `*`",
        ),
    ]);
}

#[test]
fn cidr() {
    check(
        json!({ "detail": { "ip": [{ "cidr": "10.0.0.0/16" }] } }),
        event(),
        true,
    );
    check(
        json!({ "detail": { "ip": [{ "cidr": "10.1.0.0/16" }] } }),
        event(),
        false,
    );
    check(
        json!({ "x": [{ "cidr": "2001:db8::/32" }] }),
        json!({ "x": "2001:db8::1" }),
        true,
    );
    check(
        json!({ "x": [{ "cidr": "0.0.0.0/0" }] }),
        json!({ "x": "8.8.8.8" }),
        true,
    );
}

#[test]
fn or_alternatives() {
    let pattern = json!({ "source": ["shop.orders"], "$or": [
        { "detail": { "amount": [{ "numeric": [">", 100] }] } },
        { "detail": { "customer": { "tier": ["gold"] } } }
    ]});
    check(pattern, event(), true);
    let pattern = json!({ "$or": [{ "source": ["a"] }, { "detail-type": ["b"] }] });
    check(pattern, event(), false);
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
