//! Input transformation: building a target's input from a matched event.
//!
//! A template is any JSON. Inside it, a string that is exactly a path —
//! `"$"` (the whole event) or `"$.detail.order.id"` — is replaced by the value
//! found there (any JSON type; `null` when absent), and `<$.path>` inside a
//! longer string is replaced by that value as text. Everything else is kept
//! as written. This covers what EventBridge's input paths and templates do,
//! in one readable value.

use serde_json::Value;

/// Builds the input for a target from `template` and the `event`.
pub fn apply_template(template: &Value, event: &Value) -> Value {
    match template {
        Value::String(s) if is_path(s) => lookup(event, s).cloned().unwrap_or(Value::Null),
        Value::String(s) => Value::String(interpolate(s, event)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| apply_template(v, event)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), apply_template(v, event)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn is_path(s: &str) -> bool {
    s == "$" || (s.starts_with("$.") && s.len() > 2 && !s.contains(char::is_whitespace))
}

/// The value at a `$`-path: `$.a.b` descends into objects, a number segment indexes arrays.
pub fn lookup<'a>(event: &'a Value, path: &str) -> Option<&'a Value> {
    let rest = path.strip_prefix('$')?;
    rest.split('.')
        .filter(|s| !s.is_empty())
        .try_fold(event, |value, segment| match value {
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            other => other.get(segment),
        })
}

fn interpolate(s: &str, event: &Value) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("<$") {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        let path = &rest[start + 1..start + len];
        out.push_str(&rest[..start]);
        match lookup(event, path) {
            Some(Value::String(text)) => out.push_str(text),
            Some(Value::Null) | None => {}
            Some(other) => out.push_str(&other.to_string()),
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// What kind of JSON value this is, as an error message says it: "a list",
/// "a string", "null"…
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_are_replaced_by_values_and_text_is_interpolated() {
        let event = json!({ "source": "shop", "detail": { "id": 42, "items": ["a", "b"], "who": { "name": "Ada" } } });
        let template = json!({
            "order": "$.detail.id",
            "first": "$.detail.items.0",
            "customer": "$.detail.who",
            "missing": "$.detail.nope",
            "all": "$",
            "message": "order <$.detail.id> for <$.detail.who.name> from <$.source><$.detail.nope>",
            "fixed": [1, true, "plain $ text"],
        });
        let expected = json!({
            "order": 42,
            "first": "a",
            "customer": { "name": "Ada" },
            "missing": null,
            "all": event.clone(),
            "message": "order 42 for Ada from shop",
            "fixed": [1, true, "plain $ text"],
        });
        assert_eq!(apply_template(&template, &event), expected);
    }

    #[test]
    fn an_unclosed_placeholder_is_left_as_written() {
        assert_eq!(
            apply_template(&json!("a <$.x"), &json!({ "x": 1 })),
            json!("a <$.x")
        );
    }
}
