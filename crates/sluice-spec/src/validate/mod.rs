//! Semantic checks on the typed model: names, exactly-one-of constraints,
//! ranges, cross-references and secrets. Every check reports through the
//! [`Reporter`], which turns the dotted path into a line and column.

mod data;
mod events;
mod extract;
mod runs;
mod secrets;
mod steps;

pub(crate) use secrets::stray_references;

use crate::locate::{At, YamlPath};
use crate::model::{Backoff, HumanDuration, Project, RetryPolicy, Target, TargetRef};
use crate::parse::Declared;
use crate::report::Reporter;

/// Run every check on `project`.
pub(crate) fn validate(project: &Project, declared: &Declared, rep: &mut Reporter) {
    let mut cx = Cx { rep, declared };
    data::buckets(&mut cx, project);
    data::tables(&mut cx, project);
    data::connections(&mut cx, project);
    runs::functions(&mut cx, project);
    runs::pipelines(&mut cx, project);
    runs::queues(&mut cx, project);
    events::topics(&mut cx, project);
    events::triggers(&mut cx, project);
    events::rules(&mut cx, project);
    secrets::check(&mut cx, project);
}

pub(crate) struct Cx<'r, 'a> {
    pub rep: &'r mut Reporter<'a>,
    pub declared: &'r Declared,
}

/// `section.name` as a path.
pub(crate) fn at(section: &str, name: &str) -> YamlPath {
    YamlPath::root().key(section).key(name)
}

impl Cx<'_, '_> {
    /// Check a target at `path`: exactly one destination, which exists.
    pub fn target(&mut self, path: &YamlPath, target: &Target) {
        let refs = target.refs();
        match refs.as_slice() {
            [] => self.rep.error_with(
                path,
                At::Key,
                "a target needs exactly one of `function`, `pipeline`, `queue` or `topic`",
                None,
            ),
            [one] => self.target_ref(&path.key(one.kind()), *one),
            [_, second, ..] => {
                let keys: Vec<String> = refs.iter().map(|r| format!("`{}`", r.kind())).collect();
                self.rep.error_with(
                    &path.key(second.kind()),
                    At::Key,
                    format!(
                        "a target has exactly one destination, found {}",
                        keys.join(" and ")
                    ),
                    None,
                );
            }
        }
    }

    fn target_ref(&mut self, path: &YamlPath, r: TargetRef<'_>) {
        let d = self.declared;
        let declared = match r {
            TargetRef::Function(_) => &d.functions,
            TargetRef::Pipeline(_) => &d.pipelines,
            TargetRef::Queue(_) => &d.queues,
            TargetRef::Topic(_) => &d.topics,
        };
        self.rep
            .check_ref(path, At::Value, r.kind(), r.name(), declared);
    }

    /// Durations that must not be zero.
    pub fn positive(&mut self, path: &YamlPath, what: &str, d: Option<HumanDuration>) {
        if d.is_some_and(|d| d.get().is_zero()) {
            self.rep
                .error(path, format!("{what} must be longer than 0s"));
        }
    }

    /// Counts that must be at least 1.
    pub fn at_least_one(&mut self, path: &YamlPath, what: &str, n: Option<u32>) {
        if n == Some(0) {
            self.rep.error(path, format!("{what} must be at least 1"));
        }
    }

    pub fn retry(&mut self, path: &YamlPath, retry: &Option<RetryPolicy>) {
        let Some(r) = retry else { return };
        self.at_least_one(&path.key("max_attempts"), "`max_attempts`", r.max_attempts);
        if let Some(b) = &r.backoff {
            self.backoff(&path.key("backoff"), b);
        }
    }

    pub fn backoff(&mut self, path: &YamlPath, b: &Backoff) {
        if b.multiplier.is_some_and(|m| !(m >= 1.0 && m.is_finite())) {
            self.rep
                .error(&path.key("multiplier"), "`multiplier` must be at least 1.0");
        }
        if b.jitter.is_some_and(|j| !(0.0..=1.0).contains(&j)) {
            self.rep
                .error(&path.key("jitter"), "`jitter` must be between 0.0 and 1.0");
        }
        if b.initial() > b.max() {
            let p = if b.initial.is_some() {
                path.key("initial")
            } else {
                path.key("max")
            };
            self.rep.error(
                &p,
                format!(
                    "`initial` ({}) is longer than `max` ({})",
                    humantime::format_duration(b.initial()),
                    humantime::format_duration(b.max())
                ),
            );
        }
    }

    /// Exactly one of the `set` keys among `all` at `path`.
    pub fn exactly_one(&mut self, path: &YamlPath, what: &str, all: &[&str], set: &[&str]) -> bool {
        let list = all
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        match set {
            [_] => true,
            [] => {
                self.rep.error_with(
                    path,
                    At::Key,
                    format!("{what} needs exactly one of {list}"),
                    None,
                );
                false
            }
            [first, second, ..] => {
                self.rep.error_with(
                    &path.key(*second),
                    At::Key,
                    format!(
                        "{what} takes exactly one of {list}; `{first}` and `{second}` are both set"
                    ),
                    None,
                );
                false
            }
        }
    }
}
