//! Turning a JSON pattern into a [`Pattern`], rejecting what EventBridge rejects.

use super::condition::{Bound, Condition, Text};
use super::{Field, Node, Pattern};
use serde_json::{Map, Value};
use std::fmt;
use std::net::IpAddr;

/// One step from a pattern's root to where it is wrong: an object key
/// (a field name, `$or`, or an operator such as `numeric`) or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

/// A pattern that cannot be compiled, with where it is wrong.
///
/// The location is kept as steps rather than text so that a caller who
/// knows where the pattern itself sits (`sluice validate`, in the YAML of
/// a rule) can point at the offending key; it is displayed as
/// `detail.amount[0].numeric` or `$or[1].source`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PatternError {
    pub path: Vec<PathStep>,
    pub message: String,
}

impl PatternError {
    pub(crate) fn at(path: &[PathStep], message: impl Into<String>) -> Self {
        PatternError {
            path: path.to_vec(),
            message: message.into(),
        }
    }

    /// The location as text, e.g. `detail.amount[0].numeric`; empty at the root.
    pub fn path_string(&self) -> String {
        let mut out = String::new();
        for step in &self.path {
            match step {
                PathStep::Key(k) if out.is_empty() => out.push_str(k),
                PathStep::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                PathStep::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at `{}`: {}", self.path_string(), self.message)
        }
    }
}

type Result<T> = std::result::Result<T, PatternError>;

/// Where the compiler is: the steps from the pattern's root.
type Loc = [PathStep];

fn key(loc: &Loc, name: &str) -> Vec<PathStep> {
    let mut out = loc.to_vec();
    out.push(PathStep::Key(name.to_string()));
    out
}

fn index(loc: &Loc, i: usize) -> Vec<PathStep> {
    let mut out = loc.to_vec();
    out.push(PathStep::Index(i));
    out
}

pub(super) fn compile(pattern: &Value) -> Result<Pattern> {
    let Value::Object(map) = pattern else {
        return Err(PatternError::at(&[], "a pattern must be a JSON object"));
    };
    if map.is_empty() {
        return Err(PatternError::at(
            &[],
            "a pattern must name at least one field",
        ));
    }
    Ok(Pattern {
        root: node(map, &[])?,
    })
}

fn node(map: &Map<String, Value>, path: &Loc) -> Result<Node> {
    let mut out = Node {
        fields: Vec::new(),
        any_of: Vec::new(),
    };
    for (name, value) in map {
        let here = key(path, name);
        if name == "$or" {
            out.any_of.push(alternatives(value, &here)?);
            continue;
        }
        let field = match value {
            Value::Object(inner) if inner.is_empty() => {
                return Err(PatternError::at(
                    &here,
                    "an empty object matches nothing; remove it",
                ))
            }
            Value::Object(inner) => Field::Nested(node(inner, &here)?),
            Value::Array(items) if items.is_empty() => {
                return Err(PatternError::at(
                    &here,
                    "an empty list matches nothing; list at least one value",
                ))
            }
            Value::Array(items) => Field::Leaf(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, c)| condition(c, &index(&here, i)))
                    .collect::<Result<_>>()?,
            ),
            other => {
                return Err(PatternError::at(
                    &here,
                    format!("match values must be in a list, e.g. [{other}]"),
                ))
            }
        };
        out.fields.push((name.clone(), field));
    }
    Ok(out)
}

fn alternatives(value: &Value, path: &Loc) -> Result<Vec<Node>> {
    let Value::Array(items) = value else {
        return Err(PatternError::at(path, "`$or` takes a list of patterns"));
    };
    if items.len() < 2 {
        return Err(PatternError::at(path, "`$or` needs at least two patterns"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(map) if !map.is_empty() => node(map, &index(path, i)),
            _ => Err(PatternError::at(
                &index(path, i),
                "each `$or` alternative must be a non-empty object",
            )),
        })
        .collect()
}

fn condition(value: &Value, path: &Loc) -> Result<Condition> {
    let Value::Object(map) = value else {
        return match value {
            Value::Array(_) => Err(PatternError::at(
                path,
                "lists cannot be nested inside a match list",
            )),
            scalar => Ok(Condition::Equals(scalar.clone())),
        };
    };
    let mut entries = map.iter();
    let (Some((operator, operand)), None) = (entries.next(), entries.next()) else {
        return Err(PatternError::at(
            path,
            "a match condition is an object with exactly one operator",
        ));
    };
    let path = &key(path, operator);
    match operator.as_str() {
        "prefix" => text_with_case(operand, path, "prefix", Text::Prefix, Text::PrefixIgnoreCase),
        "suffix" => text_with_case(operand, path, "suffix", Text::Suffix, Text::SuffixIgnoreCase),
        "equals-ignore-case" => Ok(Condition::Text(Text::IgnoreCase(string(operand, path, operator)?.to_lowercase()))),
        "wildcard" => Ok(Condition::Text(wildcard(string(operand, path, operator)?, path)?)),
        "anything-but" => anything_but(operand, path),
        "numeric" => numeric(operand, path),
        "exists" => match operand {
            Value::Bool(b) => Ok(Condition::Exists(*b)),
            _ => Err(PatternError::at(path, "`exists` takes true or false")),
        },
        "cidr" => cidr(string(operand, path, operator)?, path),
        other => Err(PatternError::at(path, format!(
            "unknown operator `{other}` (known: prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr)"
        ))),
    }
}

fn string<'a>(operand: &'a Value, path: &Loc, operator: &str) -> Result<&'a str> {
    operand
        .as_str()
        .ok_or_else(|| PatternError::at(path, format!("`{operator}` takes a string")))
}

fn text_with_case(
    operand: &Value,
    path: &Loc,
    op: &str,
    plain: fn(String) -> Text,
    ignore: fn(String) -> Text,
) -> Result<Condition> {
    match operand {
        Value::String(s) => Ok(Condition::Text(plain(s.clone()))),
        Value::Object(inner) => match inner.get("equals-ignore-case").and_then(Value::as_str) {
            Some(s) if inner.len() == 1 => Ok(Condition::Text(ignore(s.to_lowercase()))),
            _ => Err(PatternError::at(
                path,
                format!("`{op}` takes a string or {{\"equals-ignore-case\": string}}"),
            )),
        },
        _ => Err(PatternError::at(path, format!("`{op}` takes a string"))),
    }
}

/// A `wildcard` glob, parsed as event-ruler does: `*` matches any run of
/// characters, `\*` is a literal star and `\\` a literal backslash; two
/// stars in a row and a backslash before anything else are errors.
fn wildcard(glob: &str, path: &Loc) -> Result<Text> {
    let mut parts = vec![String::new()];
    let mut chars = glob.chars().enumerate().peekable();
    while let Some((at, c)) = chars.next() {
        let piece = parts.last_mut().expect("parts is never empty");
        match c {
            '*' if chars.peek().is_some_and(|&(_, next)| next == '*') => {
                return Err(PatternError::at(
                    path,
                    format!("`wildcard` {glob:?} has consecutive `*` at character {at}; use one"),
                ))
            }
            '*' => parts.push(String::new()),
            '\\' => match chars.next() {
                Some((_, escaped @ ('*' | '\\'))) => piece.push(escaped),
                _ => {
                    return Err(PatternError::at(
                        path,
                        format!("`wildcard` {glob:?} has an invalid escape at character {at}: `\\` escapes only `*` or `\\`"),
                    ))
                }
            },
            other => piece.push(other),
        }
    }
    Ok(Text::Wildcard {
        glob: glob.to_string(),
        parts,
    })
}

/// `anything-but` as event-ruler accepts it: a string or a number, a
/// non-empty list of only strings or only numbers, or one of `prefix`,
/// `suffix`, `equals-ignore-case`, `wildcard` with a string or a list of
/// strings. Booleans, null, mixed lists and empty prefixes are rejected,
/// as EventBridge rejects them.
fn anything_but(operand: &Value, path: &Loc) -> Result<Condition> {
    let excluded = match operand {
        Value::String(_) | Value::Number(_) => vec![Condition::Equals(operand.clone())],
        Value::Array(items) => anything_but_values(items, path)?,
        Value::Object(map) => anything_but_text(map, path)?,
        other => {
            return Err(PatternError::at(
                path,
                format!("`anything-but` takes a string, a number, a list of strings or of numbers, or prefix, suffix, equals-ignore-case or wildcard; not {other}"),
            ))
        }
    };
    Ok(Condition::AnythingBut(excluded))
}

fn anything_but_values(items: &[Value], path: &Loc) -> Result<Vec<Condition>> {
    if items.is_empty() {
        return Err(PatternError::at(
            path,
            "`anything-but` needs at least one value",
        ));
    }
    if let Some((i, bad)) = items
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_string() || v.is_number()))
    {
        return Err(PatternError::at(
            &index(path, i),
            format!("`anything-but` lists hold strings or numbers, not {bad}"),
        ));
    }
    if !(items.iter().all(Value::is_string) || items.iter().all(Value::is_number)) {
        return Err(PatternError::at(
            path,
            "an `anything-but` list holds only strings or only numbers, not a mix",
        ));
    }
    Ok(items.iter().cloned().map(Condition::Equals).collect())
}

fn anything_but_text(map: &Map<String, Value>, path: &Loc) -> Result<Vec<Condition>> {
    let mut entries = map.iter();
    let (Some((operator, operand)), None) = (entries.next(), entries.next()) else {
        return Err(PatternError::at(
            path,
            "`anything-but` takes one of prefix, suffix, equals-ignore-case or wildcard",
        ));
    };
    let here = key(path, operator);
    if !["prefix", "suffix", "equals-ignore-case", "wildcard"].contains(&operator.as_str()) {
        return Err(PatternError::at(
            &here,
            format!("`anything-but` cannot apply `{operator}`; it takes prefix, suffix, equals-ignore-case or wildcard"),
        ));
    }
    let texts: Vec<(&str, Vec<PathStep>)> = match operand {
        Value::String(s) => vec![(s.as_str(), here.clone())],
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok((s.as_str(), index(&here, i))),
                other => Err(PatternError::at(
                    &index(&here, i),
                    format!("`{operator}` inside `anything-but` takes strings, not {other}"),
                )),
            })
            .collect::<Result<_>>()?,
        _ => {
            return Err(PatternError::at(
                &here,
                format!(
                "`{operator}` inside `anything-but` takes a string or a non-empty list of strings"
            ),
            ))
        }
    };
    texts
        .into_iter()
        .map(|(text, at)| excluded_text(operator, text, &at).map(Condition::Text))
        .collect()
}

/// One string excluded by `anything-but` through `operator`.
fn excluded_text(operator: &str, text: &str, path: &Loc) -> Result<Text> {
    let non_empty = |what: &str| {
        if text.is_empty() {
            Err(PatternError::at(
                path,
                format!("an empty `anything-but` {what} would exclude every string"),
            ))
        } else {
            Ok(text.to_string())
        }
    };
    match operator {
        "prefix" => Ok(Text::Prefix(non_empty("prefix")?)),
        "suffix" => Ok(Text::Suffix(non_empty("suffix")?)),
        "equals-ignore-case" => Ok(Text::IgnoreCase(text.to_lowercase())),
        _ => wildcard(text, path),
    }
}

/// The largest magnitude EventBridge compares numerically (event-ruler's
/// `ComparableNumber`): bounds beyond it are rejected, and event values
/// beyond it never satisfy a `numeric` condition.
pub(crate) const NUMERIC_LIMIT: f64 = 5.0e9;

const NUMERIC_SHAPES: &str = "`numeric` takes [\"=\", n], a lower bound [\">\" or \">=\", n] optionally followed by an upper bound \"<\" or \"<=\", m, or an upper bound alone, e.g. [\">\", 0, \"<=\", 5]";

/// `numeric` in the shapes EventBridge accepts: `=` alone, one lower bound
/// optionally followed by one upper bound above it, or one upper bound.
fn numeric(operand: &Value, path: &Loc) -> Result<Condition> {
    let items = match operand.as_array() {
        Some(items) if items.len() == 2 || items.len() == 4 => items,
        _ => return Err(PatternError::at(path, NUMERIC_SHAPES)),
    };
    let first = bound(items, 0, path)?;
    if items.len() == 2 {
        return Ok(Condition::Numeric(vec![first]));
    }
    let second = bound(items, 2, path)?;
    let (Bound::Gt(low) | Bound::Ge(low), Bound::Lt(high) | Bound::Le(high)) = (first, second)
    else {
        return Err(PatternError::at(path, NUMERIC_SHAPES));
    };
    if low >= high {
        return Err(PatternError::at(
            path,
            format!("`numeric` range is empty: its lower bound {low} is not below its upper bound {high}"),
        ));
    }
    Ok(Condition::Numeric(vec![first, second]))
}

/// The comparison at `items[at]` and its number at `items[at + 1]`.
fn bound(items: &[Value], at: usize, path: &Loc) -> Result<Bound> {
    let n = number(&items[at + 1], &index(path, at + 1))?;
    match items[at].as_str() {
        Some("=") => Ok(Bound::Eq(n)),
        Some("<") => Ok(Bound::Lt(n)),
        Some("<=") => Ok(Bound::Le(n)),
        Some(">") => Ok(Bound::Gt(n)),
        Some(">=") => Ok(Bound::Ge(n)),
        _ => Err(PatternError::at(
            &index(path, at),
            format!(
                "`numeric` operator {} is not one of =, <, <=, >, >=",
                items[at]
            ),
        )),
    }
}

/// A bound within EventBridge's range and precision (six decimals).
fn number(value: &Value, path: &Loc) -> Result<f64> {
    let Some(n) = value.as_f64() else {
        return Err(PatternError::at(
            path,
            format!("`numeric` bound {value} is not a number"),
        ));
    };
    if !(-NUMERIC_LIMIT..=NUMERIC_LIMIT).contains(&n) {
        return Err(PatternError::at(
            path,
            format!("`numeric` bound {value} is outside -5e9..5e9, the range EventBridge compares"),
        ));
    }
    if decimals(&value.to_string()) > 6 {
        return Err(PatternError::at(
            path,
            format!("`numeric` bound {value} has more than 6 decimals, the precision EventBridge compares"),
        ));
    }
    Ok(n)
}

/// Digits after the decimal point of a JSON number's text (`1.5e-3` → 4).
fn decimals(text: &str) -> i64 {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().unwrap_or(0)),
        None => (text, 0),
    };
    let fraction = mantissa
        .split_once('.')
        .map_or(0, |(_, f)| f.trim_end_matches('0').len());
    (fraction as i64 - exponent).max(0)
}

fn cidr(text: &str, path: &Loc) -> Result<Condition> {
    let bad = || {
        PatternError::at(
            path,
            format!("`{text}` is not a CIDR block such as 10.0.0.0/24"),
        )
    };
    let (address, len) = text.split_once('/').ok_or_else(bad)?;
    let network: IpAddr = address.parse().map_err(|_| bad())?;
    let prefix_len: u8 = len.parse().map_err(|_| bad())?;
    let max = if network.is_ipv4() { 32 } else { 128 };
    if prefix_len > max {
        return Err(bad());
    }
    Ok(Condition::Cidr {
        network,
        prefix_len,
    })
}
