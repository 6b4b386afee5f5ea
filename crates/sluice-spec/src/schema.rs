//! The JSON Schema of `sluice.yaml`, generated from the model types, and a
//! walker that answers "which keys are valid here?" for suggestions.

use crate::locate::{Seg, YamlPath};
use crate::model::Project;
use serde_json::Value;
use std::sync::OnceLock;

/// The JSON Schema (draft 2020-12) of the project file.
///
/// Point editors at it (e.g. `# yaml-language-server: $schema=...`); field
/// descriptions come from the model's doc comments.
pub fn json_schema() -> Value {
    let schema = schemars::schema_for!(Project);
    serde_json::to_value(schema).expect("a generated schema is valid JSON")
}

/// The schema, generated once.
pub(crate) fn cached() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(json_schema)
}

/// The keys valid in the map at `path` (empty when unknown or free-form).
pub(crate) fn field_names_at(path: &YamlPath) -> Vec<String> {
    let here = schemas_at(path);
    let mut names: Vec<String> = here
        .iter()
        .filter_map(|s| s.get("properties").and_then(Value::as_object))
        .flat_map(|props| props.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// What the schema says about the scalar at `path`: `Some(true)` for a
/// secret (`${env:...}` allowed), `Some(false)` for a plain string, `None`
/// when unknown or free-form.
pub(crate) fn secret_at(path: &YamlPath) -> Option<bool> {
    let here = schemas_at(path);
    if here
        .iter()
        .any(|s| s.get("$ref").and_then(Value::as_str) == Some("#/$defs/Secret"))
    {
        return Some(true);
    }
    let is_string = |t: &Value| {
        t == "string"
            || t.as_array()
                .is_some_and(|a| a.iter().any(|x| x == "string"))
    };
    here.iter()
        .any(|s| s.get("type").is_some_and(is_string))
        .then_some(false)
}

/// Every schema that applies at `path`.
fn schemas_at(path: &YamlPath) -> Vec<&'static Value> {
    let root = cached();
    let mut here = expand(root, root, 0);
    for seg in &path.0 {
        let mut next = Vec::new();
        for s in here {
            if let Some(child) = step(s, seg) {
                next.extend(expand(root, child, 0));
            }
        }
        here = next;
    }
    here
}

/// The schemas `s` stands for: `$ref` followed, `anyOf`/`oneOf`/`allOf` flattened.
fn expand<'a>(root: &'a Value, s: &'a Value, depth: usize) -> Vec<&'a Value> {
    if depth > 32 {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        if let Some(target) = resolve_ref(root, r) {
            out.extend(expand(root, target, depth + 1));
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(list) = s.get(key).and_then(Value::as_array) {
            for sub in list {
                out.extend(expand(root, sub, depth + 1));
            }
        }
    }
    out.push(s);
    out
}

fn resolve_ref<'a>(root: &'a Value, r: &str) -> Option<&'a Value> {
    let pointer = r.strip_prefix('#')?;
    root.pointer(pointer)
}

fn step<'a>(s: &'a Value, seg: &Seg) -> Option<&'a Value> {
    match seg {
        Seg::Key(k) => s
            .get("properties")
            .and_then(|p| p.get(k))
            .or_else(|| s.get("additionalProperties").filter(|a| a.is_object())),
        Seg::Index(_) => s.get("items").filter(|i| i.is_object()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_at_paths() {
        let p = YamlPath::root();
        assert!(field_names_at(&p).contains(&"functions".to_string()));
        let f = p.key("functions").key("resize");
        let names = field_names_at(&f);
        assert!(
            names.contains(&"timeout".to_string()) && names.contains(&"run".to_string()),
            "{names:?}"
        );
        let phase = p.key("pipelines").key("etl").key("phases").index(2);
        assert!(field_names_at(&phase).contains(&"uses".to_string()));
        let retry = f.key("retry").key("backoff");
        assert!(field_names_at(&retry).contains(&"jitter".to_string()));
        let s3 = p.key("buckets").key("b").key("storage").key("s3");
        assert!(field_names_at(&s3).contains(&"secret_access_key".to_string()));
        let objects = p
            .key("pipelines")
            .key("e")
            .key("phases")
            .index(0)
            .key("fan_out")
            .key("over")
            .key("objects");
        assert!(field_names_at(&objects).contains(&"prefix".to_string()));
    }

    #[test]
    fn secret_fields() {
        let f = YamlPath::root().key("functions").key("f");
        assert_eq!(secret_at(&f.key("env").key("X")), Some(true));
        assert_eq!(secret_at(&f.key("handler")), Some(false));
        assert_eq!(secret_at(&f.key("run")), Some(false));
        let phase = YamlPath::root()
            .key("pipelines")
            .key("p")
            .key("phases")
            .index(0);
        assert_eq!(secret_at(&phase.key("with").key("query")), None);
        let url = YamlPath::root().key("connections").key("c").key("url");
        assert_eq!(secret_at(&url), Some(true));
    }
}
