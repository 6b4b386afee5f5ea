//! YAML text → typed [`Project`], reporting every problem it can.
//!
//! The text is read into a `serde_yaml_ng::Value`, then each resource is
//! deserialized on its own, so a type error in one function does not hide
//! problems in the others. Unknown keys are collected with `serde_ignored`
//! (the model does not deny them) and type errors carry their path thanks
//! to `serde_path_to_error`; both are turned into positions by the index.

use crate::deser::{describe, deserialize_at, scalar_text, strip_marks, unknown_key};
use crate::diagnostic::Severity;
use crate::locate::{At, Pos, YamlPath};
use crate::model::Project;
use crate::report::Reporter;
use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde_yaml_ng::{Mapping, Value};

/// Names declared in each section, including resources whose settings failed
/// to parse (so references to them do not produce a second, bogus error).
#[derive(Debug, Default)]
pub(crate) struct Declared {
    pub buckets: Vec<String>,
    pub tables: Vec<String>,
    pub connections: Vec<String>,
    pub topics: Vec<String>,
    pub queues: Vec<String>,
    pub functions: Vec<String>,
    pub pipelines: Vec<String>,
    pub triggers: Vec<String>,
    pub rules: Vec<String>,
}

/// Parse `text`. `None` when the document is unusable (bad YAML syntax, not a
/// map); the reason is reported.
pub(crate) fn parse(text: &str, rep: &mut Reporter) -> Option<(Project, Declared)> {
    let root = YamlPath::root();
    if !rep.index.duplicates.is_empty() {
        for (path, pos, first) in rep.index.duplicates.clone() {
            let key = path.last_key().unwrap_or("?").to_string();
            rep.push_at(
                Severity::Error,
                pos,
                &path,
                format!("duplicate key `{key}` (first written on line {first})"),
                None,
            );
        }
        return None;
    }
    let mut value: Value = match serde_yaml_ng::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let pos = e
                .location()
                .map(|l| Pos {
                    line: l.line(),
                    column: l.column(),
                    offset: l.index(),
                })
                .unwrap_or(Pos::START);
            let mut message = format!("invalid YAML: {}", strip_marks(&e.to_string()));
            let line = text.lines().nth(pos.line.saturating_sub(1)).unwrap_or("");
            if line.starts_with('\t') {
                message.push_str(" (YAML is indented with spaces, not tabs)");
            }
            rep.push_at(Severity::Error, pos, &root, message, None);
            return None;
        }
    };
    if let Err(e) = value.apply_merge() {
        rep.error(
            &root,
            format!("invalid YAML merge key: {}", strip_marks(&e.to_string())),
        );
        return None;
    }
    crate::validate::stray_references(rep, &root, &value);
    let map = match value {
        Value::Mapping(m) => m,
        Value::Null => {
            rep.error(
                &root,
                "the project file is empty; it needs at least `version: 1`",
            );
            return None;
        }
        other => {
            rep.error(
                &root,
                format!(
                    "expected a map of settings at the top level, found {}",
                    describe(&other)
                ),
            );
            return None;
        }
    };

    let mut project = Project::empty();
    let mut declared = Declared::default();
    let mut version = None;
    for (k, v) in map {
        let Some(key) = key_string(rep, &root, &k) else {
            continue;
        };
        let path = root.key(&key);
        let d = &mut declared;
        match key.as_str() {
            "version" => version = Some(parse_version(rep, &path, v)),
            "project" => {
                project.project = deserialize_at::<Option<String>>(rep, &path, v).flatten()
            }
            "buckets" => project.buckets = section(rep, "bucket", &path, v, &mut d.buckets),
            "tables" => project.tables = section(rep, "table", &path, v, &mut d.tables),
            "connections" => {
                project.connections = section(rep, "connection", &path, v, &mut d.connections)
            }
            "topics" => project.topics = section(rep, "topic", &path, v, &mut d.topics),
            "queues" => project.queues = section(rep, "queue", &path, v, &mut d.queues),
            "functions" => project.functions = section(rep, "function", &path, v, &mut d.functions),
            "pipelines" => project.pipelines = section(rep, "pipeline", &path, v, &mut d.pipelines),
            "triggers" => project.triggers = section(rep, "trigger", &path, v, &mut d.triggers),
            "rules" => project.rules = section(rep, "rule", &path, v, &mut d.rules),
            // Extension keys, e.g. to hold YAML anchors: `x-defaults: &defaults {...}`.
            k if k.starts_with("x-") => {}
            _ => unknown_key(rep, &path),
        }
    }
    match version {
        None => rep.error_with(
            &root,
            At::Key,
            "missing required field `version`; add `version: 1` at the top",
            None,
        ),
        Some(v) => project.version = v.unwrap_or(0),
    }
    Some((project, declared))
}

fn key_string(rep: &mut Reporter, parent: &YamlPath, key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        other => {
            let text = scalar_text(other);
            rep.error_key(
                &parent.key(&text),
                format!("keys must be strings, found {}", describe(other)),
            );
            None
        }
    }
}

fn parse_version(rep: &mut Reporter, path: &YamlPath, v: Value) -> Option<u32> {
    let supported = crate::model::defaults::SUPPORTED_VERSIONS;
    let list = supported
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let suggestion = Some(crate::model::defaults::VERSION.to_string());
    match v.as_u64() {
        Some(n) if supported.iter().any(|s| u64::from(*s) == n) => Some(n as u32),
        Some(n) => {
            rep.error_with(
                path,
                At::Value,
                format!("unsupported version {n}; supported versions: {list}"),
                suggestion,
            );
            None
        }
        None => {
            let found = describe(&v);
            rep.error_with(
                path,
                At::Value,
                format!("version must be an integer (supported versions: {list}), found {found}"),
                suggestion,
            );
            None
        }
    }
}

/// Whether `name` is a valid resource name: `^[a-z][a-z0-9_-]{0,62}$`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 63
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
}

pub(crate) const NAME_RULE: &str =
    "names must match ^[a-z][a-z0-9_-]{0,62}$ (a lowercase letter, then up to 62 lowercase letters, digits, `_` or `-`)";

/// A valid name close to an invalid one (`My.Func` → `my-func`).
pub(crate) fn fix_name(name: &str) -> Option<String> {
    let mut fixed: String = name
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if matches!(c, 'a'..='z' | '0'..='9' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    fixed = fixed
        .trim_start_matches(|c: char| !c.is_ascii_lowercase())
        .to_string();
    fixed.truncate(63);
    (valid_name(&fixed) && fixed != name).then_some(fixed)
}

fn section<T: DeserializeOwned>(
    rep: &mut Reporter,
    kind: &str,
    path: &YamlPath,
    value: Value,
    declared: &mut Vec<String>,
) -> IndexMap<String, T> {
    let mut out = IndexMap::new();
    let map = match value {
        Value::Null => return out,
        Value::Mapping(m) => m,
        other => {
            rep.error(
                path,
                format!(
                    "expected a map of {kind} names to settings, found {}",
                    describe(&other)
                ),
            );
            return out;
        }
    };
    for (k, v) in map {
        let Some(name) = key_string(rep, path, &k) else {
            continue;
        };
        let p = path.key(&name);
        if !valid_name(&name) {
            rep.error_with(
                &p,
                At::Key,
                format!("invalid {kind} name `{name}`: {NAME_RULE}"),
                fix_name(&name),
            );
        }
        declared.push(name.clone());
        // `name:` with nothing after it means "all defaults".
        let v = if v.is_null() {
            Value::Mapping(Mapping::new())
        } else {
            v
        };
        if let Some(t) = deserialize_at::<T>(rep, &p, v) {
            out.insert(name, t);
        }
    }
    out
}

/// Parse straight into the model with serde, without per-resource recovery
/// (used by tests to check the two paths agree).
#[cfg(test)]
pub(crate) fn parse_direct(text: &str) -> Result<Project, serde_yaml_ng::Error> {
    use serde::Deserialize;
    let de = serde_yaml_ng::Deserializer::from_str(text);
    Project::deserialize(de)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "resize", "batch-done", "x_1", &"a".repeat(63)] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "Resize", "1abc", "-a", "a.b", "a b", &"a".repeat(64)] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert_eq!(fix_name("My.Func").as_deref(), Some("my-func"));
        assert_eq!(fix_name("_x").as_deref(), Some("x"));
    }
}
