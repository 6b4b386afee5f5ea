//! Deserializing one YAML value into a model type while collecting every
//! unknown key (`serde_ignored`) and the path of a type error
//! (`serde_path_to_error`), and turning serde's messages into diagnostics.

use crate::diagnostic::closest;
use crate::locate::{At, Seg, YamlPath};
use crate::report::Reporter;
use crate::schema;
use serde::de::DeserializeOwned;
use serde_yaml_ng::Value;

/// Deserialize `value` (found at `base`), reporting unknown keys and the
/// first type error. `None` when deserialization failed.
pub(crate) fn deserialize_at<T: DeserializeOwned>(
    rep: &mut Reporter,
    base: &YamlPath,
    value: Value,
) -> Option<T> {
    let mut ignored: Vec<YamlPath> = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    let result = {
        let de = serde_path_to_error::Deserializer::new(value, &mut track);
        let mut on_ignored = |p: serde_ignored::Path| {
            let mut segs = base.0.clone();
            ignored_segments(&p, &mut segs);
            ignored.push(YamlPath(segs));
        };
        T::deserialize(serde_ignored::Deserializer::new(de, &mut on_ignored))
    };
    for p in &ignored {
        unknown_key(rep, p);
    }
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            let mut path = base.clone();
            for seg in track.path().iter() {
                match seg {
                    serde_path_to_error::Segment::Seq { index } => path.0.push(Seg::Index(*index)),
                    serde_path_to_error::Segment::Map { key } => path.0.push(Seg::Key(key.clone())),
                    _ => {}
                }
            }
            serde_error(rep, &path, &e.to_string());
            None
        }
    }
}

fn ignored_segments(p: &serde_ignored::Path, out: &mut Vec<Seg>) {
    match p {
        serde_ignored::Path::Root => {}
        serde_ignored::Path::Seq { parent, index } => {
            ignored_segments(parent, out);
            out.push(Seg::Index(*index));
        }
        serde_ignored::Path::Map { parent, key } => {
            ignored_segments(parent, out);
            out.push(Seg::Key(key.clone()));
        }
        serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => ignored_segments(parent, out),
    }
}

/// Report an unknown key at `path`, suggesting the closest valid key there.
pub(crate) fn unknown_key(rep: &mut Reporter, path: &YamlPath) {
    let Some(key) = path.last_key() else {
        rep.error(path, "unexpected item");
        return;
    };
    let valid = schema::field_names_at(&path.parent());
    let suggestion = closest(key, valid.iter().map(String::as_str));
    let mut message = format!("unknown field `{key}`");
    if suggestion.is_none() && !valid.is_empty() {
        message.push_str(&format!("; expected one of: {}", valid.join(", ")));
    }
    rep.error_with(path, At::Key, message, suggestion);
}

fn serde_error(rep: &mut Reporter, path: &YamlPath, raw: &str) {
    let message = friendly(&strip_marks(raw));
    let mut suggestion = None;
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        if let Some((word, expected)) = rest.split_once('`') {
            let options: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            suggestion = closest(word, options);
        }
    }
    let at = if message.starts_with("missing field") {
        At::Key
    } else {
        At::Value
    };
    rep.error_with(path, at, message, suggestion);
}

/// Serde's messages in YAML terms (`u32` → `a non-negative integer`, ...).
fn friendly(message: &str) -> String {
    let mut m = message
        .replace("unit value", "null")
        .replace("expected unit", "expected null");
    for ty in ["u8", "u16", "u32", "u64", "usize"] {
        m = m.replace(&format!("expected {ty}"), "expected a non-negative integer");
    }
    for ty in ["f32", "f64"] {
        m = m.replace(&format!("expected {ty}"), "expected a number");
    }
    if let Some(at) = m.find("expected struct ") {
        m.truncate(at);
        m.push_str("expected a map");
    }
    m
}

/// Remove ` at line N column M` / ` at position N` (the diagnostic has the position).
pub(crate) fn strip_marks(message: &str) -> String {
    let mut out = message.to_string();
    for marker in [" at line ", " at position "] {
        while let Some(start) = out.find(marker) {
            let tail = &out[start + marker.len()..];
            let mut end = start + marker.len();
            let mut chars = tail.char_indices().peekable();
            // digits, optionally followed by " column " and digits
            while let Some((i, c)) = chars.next() {
                if c.is_ascii_digit() {
                    end = start + marker.len() + i + 1;
                    continue;
                }
                if tail[i..].starts_with(" column ") && marker == " at line " {
                    for _ in 0..7 {
                        chars.next();
                    }
                    continue;
                }
                break;
            }
            out.replace_range(start..end, "");
        }
    }
    out
}

pub(crate) fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
        Value::Tagged(_) => "a tagged value",
    }
}

pub(crate) fn scalar_text(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => "?".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_marks_and_rewords() {
        assert_eq!(
            strip_marks("did not find expected key at line 3 column 5, while parsing"),
            "did not find expected key, while parsing"
        );
        assert_eq!(strip_marks("bad at position 12"), "bad");
        assert_eq!(
            friendly("invalid type: string \"x\", expected u32"),
            "invalid type: string \"x\", expected a non-negative integer"
        );
        assert_eq!(
            friendly("invalid type: sequence, expected struct Function"),
            "invalid type: sequence, expected a map"
        );
    }
}
