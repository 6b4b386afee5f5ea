//! The committed JSON Schema matches the one generated from the model.

use serde_json::{Map, Value};

const SCHEMA_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sluice.schema.json");

/// Objects with sorted keys, whatever serde_json's map implementation.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canonical(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

#[test]
fn committed_schema_is_current() {
    let generated = canonical(&sluice_spec::json_schema());
    if std::env::var("SLUICE_BLESS").as_deref() == Ok("1") {
        let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
        std::fs::write(SCHEMA_FILE, text).unwrap();
        return;
    }
    let rerun =
        "rerun with `SLUICE_BLESS=1 cargo test -p sluice-spec --test schema` to regenerate it";
    let text = std::fs::read_to_string(SCHEMA_FILE)
        .unwrap_or_else(|e| panic!("cannot read {SCHEMA_FILE} ({e}); {rerun}"));
    let committed: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{SCHEMA_FILE} is not JSON ({e}); {rerun}"));
    assert!(
        committed == generated,
        "{SCHEMA_FILE} is out of date with the model; {rerun}"
    );
}

/// Every property carries a description (from the field's doc comment): the
/// schema is the editor help.
#[test]
fn every_property_is_documented() {
    fn walk(v: &Value, path: &str, missing: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(props)) = m.get("properties") {
                    for (name, prop) in props {
                        if prop.get("description").is_none() {
                            missing.push(format!("{path}.{name}"));
                        }
                    }
                }
                for (k, child) in m {
                    walk(child, &format!("{path}/{k}"), missing);
                }
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, path, missing)),
            _ => {}
        }
    }
    let mut missing = Vec::new();
    walk(&sluice_spec::json_schema(), "#", &mut missing);
    assert!(
        missing.is_empty(),
        "properties without a doc comment: {missing:#?}"
    );
}

#[test]
fn schema_shape() {
    let s = sluice_spec::json_schema();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(s["required"], serde_json::json!(["version"]));
    assert_eq!(s["additionalProperties"], false);
    let defs = s["$defs"].as_object().unwrap();
    for def in [
        "Function", "Queue", "Pipeline", "Phase", "Trigger", "Target", "Duration", "Secret", "Size",
    ] {
        assert!(defs.contains_key(def), "missing $defs/{def}");
    }
    assert_eq!(defs["Function"]["additionalProperties"], false);
}
