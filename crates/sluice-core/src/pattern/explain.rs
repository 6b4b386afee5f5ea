//! Why an event does not match a pattern, in words, for
//! `sluice events test-pattern` and for rule debugging.

use super::condition::Condition;
use super::{Field, Node};
use serde_json::Value;

/// The first reason `event` fails `node`, or `None` if it matches.
pub(super) fn mismatch(node: &Node, event: &Value, path: &str) -> Option<String> {
    for (name, field) in &node.fields {
        let here = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        let value = event.get(name);
        match field {
            Field::Nested(inner) => {
                let reason = match value {
                    Some(v @ Value::Array(_)) => {
                        if inner.matches_within(v) {
                            None
                        } else {
                            Some(format!("no element of `{here}` matches the nested pattern"))
                        }
                    }
                    Some(v) => mismatch(inner, v, &here),
                    None => mismatch(inner, &Value::Null, &here),
                };
                if reason.is_some() {
                    return reason;
                }
            }
            Field::Leaf(conditions) => {
                if !conditions.iter().any(|c| c.matches(value)) {
                    return Some(leaf_reason(&here, value, conditions));
                }
            }
        }
    }
    for alternatives in &node.any_of {
        if !alternatives.iter().any(|alt| alt.matches(event)) {
            let reasons: Vec<String> = alternatives
                .iter()
                .filter_map(|alt| mismatch(alt, event, path))
                .collect();
            return Some(format!(
                "no `$or` alternative matches ({})",
                reasons.join("; ")
            ));
        }
    }
    None
}

fn leaf_reason(path: &str, value: Option<&Value>, conditions: &[Condition]) -> String {
    let wanted = conditions
        .iter()
        .map(describe)
        .collect::<Vec<_>>()
        .join(" or ");
    match value {
        None => format!("field `{path}` is absent; the pattern wants {wanted}"),
        Some(v) => format!("field `{path}` is {v}; the pattern wants {wanted}"),
    }
}

fn describe(condition: &Condition) -> String {
    match condition {
        Condition::Equals(v) => v.to_string(),
        Condition::Text(t) => format!("{t:?}").to_lowercase(),
        Condition::AnythingBut(list) => format!(
            "anything but {}",
            list.iter().map(describe).collect::<Vec<_>>().join(", ")
        ),
        Condition::Numeric(bounds) => format!("a number {bounds:?}").to_lowercase(),
        Condition::Exists(true) => "the field to exist".to_string(),
        Condition::Exists(false) => "the field to be absent".to_string(),
        Condition::Cidr {
            network,
            prefix_len,
        } => format!("an address in {network}/{prefix_len}"),
    }
}
