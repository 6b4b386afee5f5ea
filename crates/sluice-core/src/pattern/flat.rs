//! Rules flattened for a [`super::RuleSet`]: each rule's leaves as a short
//! run of `(field path, conditions)` checks stored contiguously with every
//! other rule's, and field paths shared between rules.
//!
//! Why: with thousands of rules, the rule an event lands on is rarely in
//! the CPU cache, and a compiled [`Pattern`] tree is a dozen separate
//! allocations (field names, nested nodes, condition lists) to fetch from
//! memory one after another. A flat rule is one or two cache lines of
//! checks, and its paths come from a small table every event uses.
//!
//! Flattening is exact only where the tree and a path lookup agree: a rule
//! with `$or` is not flattened, and when a path crosses an array inside the
//! event (where the tree requires one element to satisfy a whole nested
//! object) the rule is matched by its tree instead.

use super::condition::Condition;
use super::{Field, Node, Pattern};
use serde_json::Value;

/// One leaf of a flat rule: the conditions (any of) at a field path.
#[derive(Debug, Clone, Copy)]
struct Check {
    path: u32,
    /// `conditions[first..first + count]`.
    first: u32,
    count: u32,
}

/// The flat form of every flattenable rule of a set.
#[derive(Debug, Clone, Default)]
pub(super) struct FlatRules {
    /// Distinct field paths, split into segments.
    paths: Vec<Box<[Box<str>]>>,
    checks: Vec<Check>,
    /// The conditions of every distinct leaf. Rules often share a leaf
    /// (`"detail-type": ["Order Placed"]` in a thousand rules): it is stored
    /// once, so it stays in the cache for all of them.
    conditions: Vec<Condition>,
    /// Where each distinct leaf's conditions are, by their printed form
    /// (conditions hold floats and JSON values, so they are not `Hash`).
    known: std::collections::HashMap<String, (u32, u32)>,
}

/// Where a rule's checks are in [`FlatRules`], or that it has none.
#[derive(Debug, Clone, Copy)]
pub(super) enum Shape {
    Flat { start: u32, end: u32 },
    Tree,
}

/// What a path holds in an event.
enum Found<'a> {
    Value(Option<&'a Value>),
    /// The path crosses an array: only the tree decides.
    ThroughArray,
}

impl FlatRules {
    /// Adds the pattern's checks, if it can be flattened.
    pub(super) fn add(&mut self, pattern: &Pattern) -> Shape {
        let mut leaves = Vec::new();
        if !leaves_of(&pattern.root, &mut Vec::new(), &mut leaves) {
            return Shape::Tree;
        }
        let start = self.checks.len() as u32;
        for (path, conditions) in leaves {
            let path = self.path_id(&path);
            let (first, count) = self.conditions_id(conditions);
            self.checks.push(Check { path, first, count });
        }
        Shape::Flat {
            start,
            end: self.checks.len() as u32,
        }
    }

    fn conditions_id(&mut self, conditions: Vec<Condition>) -> (u32, u32) {
        let printed = format!("{conditions:?}");
        if let Some(&range) = self.known.get(&printed) {
            return range;
        }
        let range = (self.conditions.len() as u32, conditions.len() as u32);
        self.conditions.extend(conditions);
        self.known.insert(printed, range);
        range
    }

    fn path_id(&mut self, path: &[String]) -> u32 {
        let found = self
            .paths
            .iter()
            .position(|p| p.iter().map(|s| &**s).eq(path.iter().map(String::as_str)));
        let index = found.unwrap_or_else(|| {
            self.paths
                .push(path.iter().map(|s| s.as_str().into()).collect());
            self.paths.len() - 1
        });
        index as u32
    }

    /// Whether the event passes checks `start..end`; `None` when a path
    /// crosses an array and the tree must decide.
    pub(super) fn matches(&self, start: u32, end: u32, event: &Value) -> Option<bool> {
        for check in &self.checks[start as usize..end as usize] {
            let value = match lookup(event, &self.paths[check.path as usize]) {
                Found::Value(value) => value,
                Found::ThroughArray => return None,
            };
            let (first, count) = (check.first as usize, check.count as usize);
            if !self.conditions[first..first + count]
                .iter()
                .any(|c| c.matches(value))
            {
                return Some(false);
            }
        }
        Some(true)
    }
}

/// Collects `(path, conditions)` for every leaf under `node`; false when a
/// part of the pattern (an `$or`) has no flat form.
fn leaves_of(
    node: &Node,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Vec<Condition>)>,
) -> bool {
    if !node.any_of.is_empty() {
        return false;
    }
    for (name, field) in &node.fields {
        prefix.push(name.clone());
        let flat = match field {
            Field::Leaf(conditions) => {
                out.push((prefix.clone(), conditions.clone()));
                true
            }
            Field::Nested(inner) => leaves_of(inner, prefix, out),
        };
        prefix.pop();
        if !flat {
            return false;
        }
    }
    true
}

/// The value at `path`; the last segment's value may be an array (the
/// conditions test its elements), an earlier one may not.
fn lookup<'a>(event: &'a Value, path: &[Box<str>]) -> Found<'a> {
    let mut here = event;
    for segment in path {
        match here {
            Value::Object(map) => match map.get(&**segment) {
                Some(next) => here = next,
                None => return Found::Value(None),
            },
            Value::Array(_) => return Found::ThroughArray,
            // A scalar has no fields: the tree sees the field as absent too.
            _ => return Found::Value(None),
        }
    }
    Found::Value(Some(here))
}
