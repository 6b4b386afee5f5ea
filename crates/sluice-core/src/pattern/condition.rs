//! One match condition of a pattern leaf, and how it tests a value.

use serde_json::Value;
use std::net::IpAddr;

/// A comparison of the `numeric` condition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Bound {
    Eq(f64),
    Lt(f64),
    Le(f64),
    Gt(f64),
    Ge(f64),
}

/// How a string is tested.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Text {
    Prefix(String),
    PrefixIgnoreCase(String),
    Suffix(String),
    SuffixIgnoreCase(String),
    IgnoreCase(String),
    /// `glob` as written (for explanations), and its literal pieces
    /// between unescaped `*`s.
    Wildcard {
        glob: String,
        parts: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Condition {
    /// Exactly this JSON value (strings, numbers, booleans, null).
    Equals(Value),
    Text(Text),
    /// Not any of these.
    AnythingBut(Vec<Condition>),
    Numeric(Vec<Bound>),
    Exists(bool),
    Cidr {
        network: IpAddr,
        prefix_len: u8,
    },
}

impl Condition {
    /// Tests a field's value; `None` means the field is absent.
    ///
    /// As in EventBridge, only leaf values (strings, numbers, booleans,
    /// null) are tested: an array matches when any of its elements does
    /// (arrays of arrays are flattened), and an object is not a value at
    /// all, so it matches nothing, and `exists` treats a field holding only
    /// objects or empty arrays as absent ("exists only works on leaf nodes").
    pub fn matches(&self, value: Option<&Value>) -> bool {
        match (self, value) {
            (Condition::Exists(expected), v) => v.is_some_and(has_leaf) == *expected,
            (_, None) => false,
            (_, Some(v)) => self.matches_leaves(v),
        }
    }

    fn matches_leaves(&self, value: &Value) -> bool {
        match value {
            Value::Array(items) => items.iter().any(|item| self.matches_leaves(item)),
            Value::Object(_) => false,
            leaf => self.matches_scalar(leaf),
        }
    }

    fn matches_scalar(&self, value: &Value) -> bool {
        match self {
            Condition::Equals(expected) => equals(expected, value),
            Condition::Text(text) => value.as_str().is_some_and(|s| text.matches(s)),
            Condition::AnythingBut(excluded) => !excluded.iter().any(|c| c.matches_scalar(value)),
            // EventBridge compares numbers only within ±5e9.
            Condition::Numeric(bounds) => value.as_f64().is_some_and(|n| {
                n.abs() <= super::compile::NUMERIC_LIMIT && bounds.iter().all(|b| b.holds(n))
            }),
            Condition::Exists(expected) => *expected,
            Condition::Cidr {
                network,
                prefix_len,
            } => value
                .as_str()
                .and_then(|s| s.parse::<IpAddr>().ok())
                .is_some_and(|ip| in_network(ip, *network, *prefix_len)),
        }
    }

    /// The string this condition requires exactly, if it is an exact string match.
    pub fn exact_string(&self) -> Option<&str> {
        match self {
            Condition::Equals(Value::String(s)) => Some(s),
            _ => None,
        }
    }
}

/// Whether `value` is or holds (in arrays, at any depth) a leaf value.
fn has_leaf(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(has_leaf),
        Value::Object(_) => false,
        _ => true,
    }
}

/// Numbers compare by value (`5` equals `5.0`); everything else by JSON equality.
fn equals(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

impl Text {
    fn matches(&self, s: &str) -> bool {
        match self {
            Text::Prefix(p) => s.starts_with(p.as_str()),
            Text::PrefixIgnoreCase(p) => s.to_lowercase().starts_with(p.as_str()),
            Text::Suffix(x) => s.ends_with(x.as_str()),
            Text::SuffixIgnoreCase(x) => s.to_lowercase().ends_with(x.as_str()),
            Text::IgnoreCase(x) => s.to_lowercase() == *x,
            Text::Wildcard { parts, .. } => wildcard(parts, s),
        }
    }
}

/// Glob match where `parts` are the literal pieces between `*`s.
fn wildcard(parts: &[String], s: &str) -> bool {
    let (first, rest) = match parts.split_first() {
        Some(split) => split,
        None => return s.is_empty(),
    };
    let Some(mut remaining) = s.strip_prefix(first.as_str()) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for piece in middle {
        match remaining.find(piece.as_str()) {
            Some(at) => remaining = &remaining[at + piece.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last.as_str())
}

impl Bound {
    fn holds(self, n: f64) -> bool {
        match self {
            Bound::Eq(x) => n == x,
            Bound::Lt(x) => n < x,
            Bound::Le(x) => n <= x,
            Bound::Gt(x) => n > x,
            Bound::Ge(x) => n >= x,
        }
    }
}

fn in_network(ip: IpAddr, network: IpAddr, prefix_len: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            masked(u32::from(a) as u128, u32::from(n) as u128, prefix_len, 32)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => masked(u128::from(a), u128::from(n), prefix_len, 128),
        _ => false,
    }
}

fn masked(a: u128, n: u128, prefix_len: u8, bits: u32) -> bool {
    let shift = bits - u32::from(prefix_len).min(bits);
    if shift >= bits {
        return true;
    }
    (a >> shift) == (n >> shift)
}
