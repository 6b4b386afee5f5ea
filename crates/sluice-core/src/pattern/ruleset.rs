//! Many patterns matched against one event at a cost that does not grow with
//! the number of rules in the common case.
//!
//! Most rules require an exact string somewhere (`"source": ["shop"]`). Each
//! such rule is indexed under one of its exact field paths and values: the
//! one whose values so far anchor the fewest rules, so that rules sharing a
//! common value (`"detail-type": ["Order Placed"]`) but differing in another
//! (`"source"`) spread out instead of piling up under the shared one. An event
//! looks up only the rules anchored on values it actually has, then verifies
//! those candidates fully. Rules with no exact string (only prefixes, numeric
//! ranges, …) are always verified; they are the uncommon case.

use super::flat::{FlatRules, Shape};
use super::Pattern;
use foldhash::fast::FixedState;
use serde_json::Value;
use std::collections::HashMap;
use std::hash::BuildHasher;

/// Per anchor path: the hash of an exact value → the rules anchored there.
/// Keys are hashes, not strings, so a lookup touches no string in memory;
/// a collision only adds a candidate, which verification then rejects.
/// (The values come from the project's own rules: flooding is no concern.)
pub(super) type Index = HashMap<u64, Candidates, FixedState>;

/// Rules anchored on one value: almost always exactly one, kept inline.
#[derive(Debug, Clone)]
pub(super) enum Candidates {
    One(usize),
    Many(Vec<usize>),
}

impl Candidates {
    pub(super) fn len(&self) -> usize {
        match self {
            Candidates::One(_) => 1,
            Candidates::Many(rules) => rules.len(),
        }
    }

    fn add(&mut self, rule: usize) {
        match self {
            Candidates::One(first) => *self = Candidates::Many(vec![*first, rule]),
            Candidates::Many(rules) => rules.push(rule),
        }
    }

    fn as_slice(&self) -> &[usize] {
        match self {
            Candidates::One(rule) => std::slice::from_ref(rule),
            Candidates::Many(rules) => rules,
        }
    }

    fn extend_into(&self, out: &mut Vec<usize>) {
        out.extend_from_slice(self.as_slice());
    }
}

fn key(value: &str) -> u64 {
    FixedState::with_seed(0x51c3_e5ee_d5a1_7e5d).hash_one(value)
}

/// A compiled set of rules, each a pattern with a payload (a rule name, targets…).
#[derive(Debug, Clone)]
pub struct RuleSet<T> {
    rules: Vec<(T, Pattern)>,
    /// Per rule (same index): where its flat checks are, if it has them.
    shapes: Vec<Shape>,
    flat: FlatRules,
    /// Distinct anchor paths as segments, never joined: a field name may
    /// contain `.` (`"a.b"` is not `a` → `b`).
    anchor_paths: Vec<Vec<String>>,
    /// Per anchor path (same index as `anchor_paths`): exact value → rules anchored there.
    pub(super) anchored: Vec<Index>,
    pub(super) unanchored: Vec<usize>,
}

impl<T> Default for RuleSet<T> {
    fn default() -> Self {
        RuleSet {
            rules: Vec::new(),
            shapes: Vec::new(),
            flat: FlatRules::default(),
            anchor_paths: Vec::new(),
            anchored: Vec::new(),
            unanchored: Vec::new(),
        }
    }
}

impl<T> RuleSet<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, payload: T, pattern: Pattern) {
        let index = self.rules.len();
        let best = pattern.anchors().into_iter().min_by_key(|(path, values)| {
            // Rules already anchored on these values, then whether the path
            // is new (each distinct path costs every event one more lookup).
            let slot = self.slot_of(path);
            let crowd: usize = values
                .iter()
                .map(|v| {
                    slot.and_then(|s| self.anchored[s].get(&key(v)))
                        .map_or(0, Candidates::len)
                })
                .sum();
            (crowd, slot.is_none())
        });
        match best {
            Some((path, values)) => {
                let slot = match self.slot_of(&path) {
                    Some(slot) => slot,
                    None => {
                        self.anchor_paths.push(path);
                        self.anchored.push(Index::default());
                        self.anchor_paths.len() - 1
                    }
                };
                for value in values {
                    self.anchored[slot]
                        .entry(key(&value))
                        .and_modify(|c| c.add(index))
                        .or_insert(Candidates::One(index));
                }
            }
            None => self.unanchored.push(index),
        }
        self.shapes.push(self.flat.add(&pattern));
        self.rules.push((payload, pattern));
    }

    fn slot_of(&self, path: &[String]) -> Option<usize> {
        self.anchor_paths.iter().position(|p| p == path)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    fn rule_matches(&self, rule: usize, event: &Value) -> bool {
        let flat = match self.shapes[rule] {
            Shape::Flat { start, end } => self.flat.matches(start, end, event),
            Shape::Tree => None,
        };
        flat.unwrap_or_else(|| self.rules[rule].1.matches(event))
    }

    /// Whether any rule could match an event whose top-level `field` is
    /// `value` (see [`Pattern::admits`]).
    pub fn admits(&self, field: &str, value: &str) -> bool {
        self.rules.iter().any(|(_, p)| p.admits(field, value))
    }

    /// The payloads of every rule the event matches, in insertion order.
    pub fn matching(&self, event: &Value) -> Vec<&T> {
        // Usually the event's values hit one list of anchored rules, already
        // in order and distinct: it is verified in place, with no copying.
        let mut first: Option<&Candidates> = None;
        let mut more: Vec<usize> = Vec::new();
        for (slot, path) in self.anchor_paths.iter().enumerate() {
            strings_at(event, path, &mut |value| {
                if let Some(rules) = self.anchored[slot].get(&key(value)) {
                    match first {
                        None => first = Some(rules),
                        Some(_) => rules.extend_into(&mut more),
                    }
                }
            });
        }
        if more.is_empty() && self.unanchored.is_empty() {
            return match first {
                None => Vec::new(),
                Some(rules) => rules
                    .as_slice()
                    .iter()
                    .filter(|&&i| self.rule_matches(i, event))
                    .map(|&i| &self.rules[i].0)
                    .collect(),
            };
        }
        let mut candidates = self.unanchored.clone();
        if let Some(rules) = first {
            rules.extend_into(&mut candidates);
        }
        candidates.extend_from_slice(&more);
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .filter(|&i| self.rule_matches(i, event))
            .map(|i| &self.rules[i].0)
            .collect()
    }
}

/// Calls `found` with every string at `path`, descending through arrays
/// as matching does.
fn strings_at<'a>(value: &'a Value, path: &[String], found: &mut impl FnMut(&'a str)) {
    match (value, path.split_first()) {
        (Value::Array(items), _) => items.iter().for_each(|item| strings_at(item, path, found)),
        (Value::String(s), None) => found(s),
        (Value::Object(map), Some((head, rest))) => {
            if let Some(next) = map.get(head) {
                strings_at(next, rest, found);
            }
        }
        _ => {}
    }
}
