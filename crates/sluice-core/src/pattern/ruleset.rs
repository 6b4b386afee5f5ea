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

use super::Pattern;
use serde_json::Value;
use std::collections::HashMap;

/// A compiled set of rules, each a pattern with a payload (a rule name, targets…).
#[derive(Debug, Clone)]
pub struct RuleSet<T> {
    rules: Vec<(T, Pattern)>,
    /// Distinct anchor paths, split into segments.
    anchor_paths: Vec<Vec<String>>,
    /// Per anchor path (same index as `anchor_paths`): exact value → rules anchored there.
    pub(super) anchored: Vec<HashMap<String, Vec<usize>>>,
    pub(super) unanchored: Vec<usize>,
}

impl<T> Default for RuleSet<T> {
    fn default() -> Self {
        RuleSet {
            rules: Vec::new(),
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
                    slot.and_then(|s| self.anchored[s].get(v))
                        .map_or(0, Vec::len)
                })
                .sum();
            (crowd, slot.is_none())
        });
        match best {
            Some((path, values)) => {
                let slot = match self.slot_of(&path) {
                    Some(slot) => slot,
                    None => {
                        self.anchor_paths
                            .push(path.split('.').map(str::to_string).collect());
                        self.anchored.push(HashMap::new());
                        self.anchor_paths.len() - 1
                    }
                };
                for value in values {
                    self.anchored[slot].entry(value).or_default().push(index);
                }
            }
            None => self.unanchored.push(index),
        }
        self.rules.push((payload, pattern));
    }

    fn slot_of(&self, path: &str) -> Option<usize> {
        self.anchor_paths
            .iter()
            .position(|p| p.iter().map(String::as_str).eq(path.split('.')))
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The payloads of every rule the event matches, in insertion order.
    pub fn matching(&self, event: &Value) -> Vec<&T> {
        let mut candidates: Vec<usize> = self.unanchored.clone();
        let mut found = Vec::new();
        for (slot, path) in self.anchor_paths.iter().enumerate() {
            found.clear();
            strings_at(event, path, &mut found);
            for value in &found {
                if let Some(rules) = self.anchored[slot].get(*value) {
                    candidates.extend_from_slice(rules);
                }
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .filter(|&i| self.rules[i].1.matches(event))
            .map(|i| &self.rules[i].0)
            .collect()
    }
}

/// Every string found at `path`, descending through arrays as matching does.
fn strings_at<'a>(value: &'a Value, path: &[String], out: &mut Vec<&'a str>) {
    match (value, path.split_first()) {
        (Value::Array(items), _) => items.iter().for_each(|item| strings_at(item, path, out)),
        (Value::String(s), None) => out.push(s),
        (Value::Object(map), Some((head, rest))) => {
            if let Some(next) = map.get(head) {
                strings_at(next, rest, out);
            }
        }
        _ => {}
    }
}
