//! Why an event does not match a pattern, in words, for
//! `sluice events test-pattern` and for rule debugging.
//!
//! Every failing field is reported, not only the first, so that one run of
//! `test-pattern` shows all that must change; conditions are printed in
//! pattern syntax (`{"numeric":[">",10]}`) so they can be pasted back.

use super::condition::{Bound, Condition, Text};
use super::{Field, Node};
use serde_json::{json, Value};

/// Appends to `out` every reason `event` fails `node` (none if it matches);
/// `path` is where `node` sits in the event, for the messages.
pub(super) fn mismatches(node: &Node, event: &Value, path: &str, out: &mut Vec<String>) {
    for (name, field) in &node.fields {
        let here = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        let value = event.get(name);
        match field {
            Field::Nested(inner) => nested(inner, value, &here, out),
            Field::Leaf(conditions) => {
                if !conditions.iter().any(|c| c.matches(value)) {
                    out.push(leaf_reason(&here, value, conditions));
                }
            }
        }
    }
    for alternatives in &node.any_of {
        if !alternatives.iter().any(|alt| alt.matches(event)) {
            let reasons: Vec<String> = alternatives
                .iter()
                .enumerate()
                .map(|(i, alt)| {
                    let mut why = Vec::new();
                    mismatches(alt, event, path, &mut why);
                    format!("[{i}] {}", why.join(", "))
                })
                .collect();
            let at = if path.is_empty() {
                "$or".to_string()
            } else {
                format!("{path}.$or")
            };
            out.push(format!(
                "no `{at}` alternative matches: {}",
                reasons.join("; ")
            ));
        }
    }
}

/// A nested pattern against a field's value; inside an array, one element
/// must match it whole, so a failure lists why each element fails.
fn nested(inner: &Node, value: Option<&Value>, here: &str, out: &mut Vec<String>) {
    match value {
        Some(v @ Value::Array(items)) if !items.is_empty() => {
            if inner.matches_within(v) {
                return;
            }
            let mut why = Vec::new();
            elements(inner, items, here, &mut why);
            out.push(format!(
                "no element of `{here}` matches: {}",
                why.join("; ")
            ));
        }
        Some(Value::Array(_)) | None => mismatches(inner, &Value::Null, here, out),
        Some(v) => mismatches(inner, v, here, out),
    }
}

/// Why each element (arrays of arrays flattened) fails `inner`.
fn elements(inner: &Node, items: &[Value], here: &str, out: &mut Vec<String>) {
    for (i, item) in items.iter().enumerate() {
        let at = format!("{here}[{i}]");
        match item {
            Value::Array(nested) => elements(inner, nested, &at, out),
            item => mismatches(inner, item, &at, out),
        }
    }
}

fn leaf_reason(path: &str, value: Option<&Value>, conditions: &[Condition]) -> String {
    let wanted = conditions
        .iter()
        .map(|c| describe(c).to_string())
        .collect::<Vec<_>>()
        .join(" or ");
    match value {
        None => format!("field `{path}` is absent; the pattern wants {wanted}"),
        Some(v @ Value::Object(_)) => format!(
            "field `{path}` is an object ({}), not a value; the pattern wants {wanted}",
            shortened(v)
        ),
        Some(v) => format!(
            "field `{path}` is {}; the pattern wants {wanted}",
            shortened(v)
        ),
    }
}

/// An event value as JSON, cut short: events may be large.
fn shortened(value: &Value) -> String {
    const MAX: usize = 120;
    let text = value.to_string();
    if text.chars().count() <= MAX {
        return text;
    }
    format!("{}…", text.chars().take(MAX).collect::<String>())
}

/// A condition in pattern syntax, as it would be written in a rule.
pub(super) fn describe(condition: &Condition) -> Value {
    match condition {
        Condition::Equals(v) => v.clone(),
        Condition::Text(t) => text(t),
        Condition::AnythingBut(list) => json!({ "anything-but": excluded(list) }),
        Condition::Numeric(bounds) => {
            let terms: Vec<Value> = bounds
                .iter()
                .flat_map(|b| {
                    let (op, n) = bound(*b);
                    [json!(op), number(n)]
                })
                .collect();
            json!({ "numeric": terms })
        }
        Condition::Exists(b) => json!({ "exists": b }),
        Condition::Cidr {
            network,
            prefix_len,
        } => json!({ "cidr": format!("{network}/{prefix_len}") }),
    }
}

fn text(t: &Text) -> Value {
    match t {
        Text::Prefix(p) => json!({ "prefix": p }),
        Text::PrefixIgnoreCase(p) => json!({ "prefix": { "equals-ignore-case": p } }),
        Text::Suffix(s) => json!({ "suffix": s }),
        Text::SuffixIgnoreCase(s) => json!({ "suffix": { "equals-ignore-case": s } }),
        Text::IgnoreCase(s) => json!({ "equals-ignore-case": s }),
        Text::Wildcard { glob, .. } => json!({ "wildcard": glob }),
    }
}

/// The operand of `anything-but`: a value, a list of values, or one text
/// operator with a string or a list of strings (compiling allows no mix).
fn excluded(list: &[Condition]) -> Value {
    let described: Vec<Value> = list.iter().map(describe).collect();
    if let [one] = described.as_slice() {
        return one.clone();
    }
    let operator = match described.first() {
        Some(Value::Object(map)) => map.keys().next().cloned(),
        _ => None,
    };
    match operator {
        Some(op) => {
            let operands: Vec<Value> = described.iter().map(|d| d[&op].clone()).collect();
            json!({ op: operands })
        }
        None => Value::Array(described),
    }
}

fn bound(b: Bound) -> (&'static str, f64) {
    match b {
        Bound::Eq(n) => ("=", n),
        Bound::Lt(n) => ("<", n),
        Bound::Le(n) => ("<=", n),
        Bound::Gt(n) => (">", n),
        Bound::Ge(n) => (">=", n),
    }
}

/// `10` rather than `10.0` for whole numbers (bounds are within ±5e9).
fn number(n: f64) -> Value {
    if n.fract() == 0.0 {
        json!(n as i64)
    } else {
        json!(n)
    }
}
