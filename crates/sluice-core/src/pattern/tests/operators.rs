//! anything-but with text operators, numeric, exists, wildcard, cidr and `$or`.

use super::*;
use serde_json::json;

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
