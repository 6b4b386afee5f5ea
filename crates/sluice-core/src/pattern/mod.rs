//! Event patterns in the EventBridge pattern language, compiled once and
//! matched many times.
//!
//! A pattern is a JSON object whose keys name event fields. A nested object
//! descends into the field; an array lists the *match conditions* of a leaf,
//! any of which may match ("any of"). When the event's field is itself an
//! array, the leaf matches if any element matches. Conditions:
//!
//! | condition | matches |
//! | --- | --- |
//! | `"text"`, `5`, `true`, `null` | exactly that value |
//! | `{"prefix": "p"}` / `{"suffix": "s"}` | a string starting / ending so (either may wrap `{"equals-ignore-case": ...}`) |
//! | `{"equals-ignore-case": "x"}` | a string equal up to case |
//! | `{"wildcard": "a*b"}` | a string matching the glob (`*` any run, `\*` a star) |
//! | `{"anything-but": v}` | anything except `v`, a list of values, or a `prefix`/`suffix`/`equals-ignore-case`/`wildcard` |
//! | `{"numeric": [">", 0, "<=", 5]}` | a number in the range (`=`, `<`, `<=`, `>`, `>=`) |
//! | `{"exists": true}` / `{"exists": false}` | the field present / absent |
//! | `{"cidr": "10.0.0.0/24"}` | an IP address string inside the network |
//!
//! `"$or": [pattern, pattern, ...]` at any level matches when any alternative
//! does. Compiling validates the pattern and reports where it is wrong; a
//! compiled [`Pattern`] matches without allocating and can explain a mismatch.

mod compile;
mod condition;
mod explain;
mod flat;
mod ruleset;

pub use compile::{PathStep, PatternError};
pub use ruleset::RuleSet;

use condition::Condition;
use serde_json::Value;

/// A compiled event pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    root: Node,
}

/// All fields of one object level must match; then one of the `$or`
/// alternatives, if any.
#[derive(Debug, Clone, PartialEq)]
struct Node {
    fields: Vec<(String, Field)>,
    any_of: Vec<Vec<Node>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Field {
    Nested(Node),
    /// Any of these conditions.
    Leaf(Vec<Condition>),
}

impl Pattern {
    /// Compiles a pattern given as JSON.
    pub fn compile(pattern: &Value) -> Result<Pattern, PatternError> {
        compile::compile(pattern)
    }

    /// Compiles a pattern given as JSON text.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| PatternError::at(&[], format!("not valid JSON: {e}")))?;
        Self::compile(&value)
    }

    /// Whether the event matches.
    pub fn matches(&self, event: &Value) -> bool {
        self.root.matches(event)
    }

    /// Whether an event whose top-level `field` is the string `value` could
    /// match, judging by that field alone: true when the pattern does not
    /// constrain it at the top level. Used to decide whether a kind of event
    /// (say `source: sluice.objects`) is worth producing at all.
    pub fn admits(&self, field: &str, value: &str) -> bool {
        match self.root.fields.iter().find(|(name, _)| name == field) {
            Some((_, Field::Leaf(conditions))) => {
                let value = Value::String(value.to_string());
                conditions.iter().any(|c| c.matches(Some(&value)))
            }
            Some((_, Field::Nested(_))) => false,
            None => true,
        }
    }

    /// `None` when the event matches, else why not: every failing field,
    /// separated by `; ` (see [`Pattern::mismatches`]).
    pub fn mismatch(&self, event: &Value) -> Option<String> {
        let reasons = self.mismatches(event);
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }

    /// Every reason the event fails, one per failing field or `$or`; empty
    /// when it matches. Conditions are quoted in pattern syntax.
    pub fn mismatches(&self, event: &Value) -> Vec<String> {
        let mut reasons = Vec::new();
        explain::mismatches(&self.root, event, "", &mut reasons);
        reasons
    }

    /// Every field path (as its segments: a field name may itself contain
    /// `.`) whose exact string values every matching event must have one
    /// of, in the pattern's order: the candidates for indexing the rule
    /// (see [`RuleSet`]). An event lacking all of them cannot match.
    pub(crate) fn anchors(&self) -> Vec<(Vec<String>, Vec<String>)> {
        let mut found = Vec::new();
        self.root.anchors(&mut Vec::new(), &mut found);
        found
    }
}

impl Node {
    fn matches(&self, value: &Value) -> bool {
        let fields_match = self
            .fields
            .iter()
            .all(|(name, field)| field.matches(value.get(name)));
        fields_match
            && self
                .any_of
                .iter()
                .all(|alternatives| alternatives.iter().any(|alt| alt.matches(value)))
    }

    fn anchors(&self, prefix: &mut Vec<String>, found: &mut Vec<(Vec<String>, Vec<String>)>) {
        for (name, field) in &self.fields {
            prefix.push(name.clone());
            match field {
                Field::Nested(node) => node.anchors(prefix, found),
                Field::Leaf(conditions) => {
                    let exact: Option<Vec<String>> = conditions
                        .iter()
                        .map(|c| c.exact_string().map(str::to_string))
                        .collect();
                    if let Some(values) = exact.filter(|v| !v.is_empty()) {
                        found.push((prefix.clone(), values));
                    }
                }
            }
            prefix.pop();
        }
    }
}

impl Node {
    /// Matches the value of a field this node descends into: one element
    /// of an array must match the whole node (arrays of arrays are
    /// flattened, as EventBridge does); an empty array holds no fields.
    pub(super) fn matches_within(&self, value: &Value) -> bool {
        match value {
            Value::Array(items) if items.is_empty() => self.matches(&Value::Null),
            Value::Array(items) => items.iter().any(|item| self.matches_within(item)),
            v => self.matches(v),
        }
    }
}

impl Field {
    fn matches(&self, value: Option<&Value>) -> bool {
        match self {
            Field::Nested(node) => match value {
                Some(v) => node.matches_within(v),
                // A missing object matches only if all the pattern asks there is absence.
                None => node.matches(&Value::Null),
            },
            Field::Leaf(conditions) => conditions.iter().any(|c| c.matches(value)),
        }
    }
}

#[cfg(test)]
mod tests;
