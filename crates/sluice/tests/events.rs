//! `sluice events test-pattern` from the command line.

mod common;

use common::*;
use std::process::Command;

fn test_pattern(pattern: &str, event: &str) -> std::process::Output {
    Command::new(SLUICE)
        .args(["events", "test-pattern", pattern, event])
        .output()
        .unwrap()
}

#[test]
fn a_matching_event_exits_zero() {
    let out = test_pattern(
        r#"{"source":[{"prefix":"shop."}],"detail":{"amount":[{"numeric":[">",10]}]}}"#,
        r#"{"source":"shop.orders","detail":{"amount":12}}"#,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out).trim(), "match");
}

#[test]
fn a_mismatch_says_which_field_and_why() {
    let out = test_pattern(
        r#"{"detail":{"amount":[{"numeric":[">",10]}]}}"#,
        r#"{"detail":{"amount":7}}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.starts_with("no match:") && text.contains("`detail.amount` is 7"),
        "{text}"
    );
}

#[test]
fn every_failing_field_is_explained_in_pattern_syntax() {
    let out = test_pattern(
        r#"{"source":[{"prefix":"shop."}],"detail":{"amount":[{"numeric":[">",10]}],"items":{"sku":["C"]}}}"#,
        r#"{"source":"bank","detail":{"amount":7,"items":[{"sku":"A"},{"sku":"B"}]}}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for fragment in [
        "no match (3 reasons):",
        r#"  - field `source` is "bank"; the pattern wants {"prefix":"shop."}"#,
        r#"  - field `detail.amount` is 7; the pattern wants {"numeric":[">",10]}"#,
        r#"field `detail.items[1].sku` is "B""#,
    ] {
        assert!(text.contains(fragment), "missing {fragment} in:\n{text}");
    }
}

#[test]
fn an_invalid_pattern_is_reported_with_its_path() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("pattern.json");
    std::fs::write(&file, r#"{"detail":{"kind":"order"}}"#).unwrap();
    let out = test_pattern(&format!("@{}", file.display()), "{}");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("at `detail.kind`: match values must be in a list"),
        "{}",
        stderr(&out)
    );
    let out = test_pattern(r#"{"n":[1,{"numeric":[">",1,">",2]}]}"#, "{}");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("at `n[1].numeric`: `numeric` takes"),
        "{}",
        stderr(&out)
    );
}
