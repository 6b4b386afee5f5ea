//! Strings that may hold secrets: literals or `${env:NAME}` references.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// The only known secret provider.
pub const ENV_PROVIDER: &str = "env";

/// A string that may hold a secret: a literal, or a template with
/// `${env:NAME}` references, possibly embedded
/// (`postgres://u:${env:PGPASS}@h/db`). `$${` writes a literal `${`.
///
/// The raw template is kept; call [`SecretString::resolve`] at the point of
/// use. `Debug` hides templates without references, since they are literal
/// secrets.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct SecretString(String);

/// One piece of a parsed [`SecretString`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretPart<'a> {
    Literal(Cow<'a, str>),
    /// `${env:NAME}`.
    Env(&'a str),
}

/// A malformed `${...}` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The reference as written, e.g. `${vault:x}` (used to point at it).
    pub reference: String,
    pub message: String,
    /// A corrected reference, when one is obvious.
    pub suggestion: Option<String>,
}

impl SecretString {
    pub fn new(template: impl Into<String>) -> Self {
        SecretString(template.into())
    }

    /// The template as written in the project file.
    pub fn template(&self) -> &str {
        &self.0
    }

    /// The text before the first reference (e.g. `postgres://` in
    /// `postgres://${env:U}@h`); the whole string when there is none.
    pub fn literal_prefix(&self) -> &str {
        self.0
            .split("${")
            .next()
            .unwrap_or("")
            .trim_end_matches('$')
    }

    /// Whether the string contains no `${...}` reference at all.
    pub fn is_literal(&self) -> bool {
        match self.parts() {
            Ok(parts) => parts.iter().all(|p| matches!(p, SecretPart::Literal(_))),
            Err(_) => false,
        }
    }

    /// The environment variables referenced (empty when malformed).
    pub fn env_vars(&self) -> Vec<&str> {
        self.parts()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| match p {
                SecretPart::Env(name) => Some(name),
                SecretPart::Literal(_) => None,
            })
            .collect()
    }

    /// Split the template into literal text and references.
    pub fn parts(&self) -> Result<Vec<SecretPart<'_>>, TemplateError> {
        parse_template(&self.0)
    }

    /// Substitute every reference using `lookup` (e.g. `|k| std::env::var(k).ok()`).
    ///
    /// The error names the missing variable or the malformed reference.
    pub fn resolve(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
        let mut out = String::new();
        for part in self.parts().map_err(|e| e.message)? {
            match part {
                SecretPart::Literal(text) => out.push_str(&text),
                SecretPart::Env(name) => match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => return Err(format!("environment variable `{name}` is not set")),
                },
            }
        }
        Ok(out)
    }
}

fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_template(text: &str) -> Result<Vec<SecretPart<'_>>, TemplateError> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    let mut borrowed_start = Some(0usize);
    while let Some(at) = rest.find('$') {
        let after = &rest[at..];
        if after.starts_with("$${") {
            literal.push_str(&rest[..at]);
            literal.push_str("${");
            rest = &rest[at + 3..];
            borrowed_start = None;
            continue;
        }
        if !after.starts_with("${") {
            literal.push_str(&rest[..=at]);
            rest = &rest[at + 1..];
            continue;
        }
        literal.push_str(&rest[..at]);
        let Some(end) = after.find('}') else {
            return Err(TemplateError {
                reference: after.to_string(),
                message: format!("unterminated reference `{after}`: missing `}}`"),
                suggestion: None,
            });
        };
        let reference = &after[..=end];
        let inner = &after[2..end];
        let err = |message: String, suggestion: Option<String>| TemplateError {
            reference: reference.to_string(),
            message,
            suggestion,
        };
        let Some((provider, name)) = inner.split_once(':') else {
            let fix = valid_env_name(inner.trim()).then(|| format!("${{env:{}}}", inner.trim()));
            return Err(err(
                format!("reference `{reference}` names no provider; write `${{env:NAME}}`"),
                fix,
            ));
        };
        if provider != ENV_PROVIDER {
            let close = crate::diagnostic::closest(provider, [ENV_PROVIDER]);
            return Err(err(
                format!("unknown secret provider `{provider}` in `{reference}`; the only provider is `env`"),
                close.map(|_| format!("${{env:{name}}}")),
            ));
        }
        if !valid_env_name(name) {
            return Err(err(
                format!(
                    "invalid environment variable name `{name}` in `{reference}`: use letters, digits and `_`, not starting with a digit"
                ),
                None,
            ));
        }
        if !literal.is_empty() {
            parts.push(SecretPart::Literal(Cow::Owned(std::mem::take(
                &mut literal,
            ))));
        }
        parts.push(SecretPart::Env(name));
        rest = &after[end + 1..];
        borrowed_start = None;
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        parts.push(SecretPart::Literal(match borrowed_start {
            Some(_) => Cow::Borrowed(text),
            None => Cow::Owned(literal),
        }));
    }
    Ok(parts)
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.contains("${") {
            write!(f, "SecretString({:?})", self.0)
        } else {
            f.write_str("SecretString(<literal>)")
        }
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        SecretString(s.to_string())
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        SecretString(s)
    }
}

impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SecretString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a `${env:NAME}` reference")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretString, E> {
                Ok(SecretString(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<SecretString, E> {
                Ok(SecretString(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SecretString, E> {
                Ok(SecretString(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SecretString, E> {
                Ok(SecretString(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<SecretString, E> {
                Ok(SecretString(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<SecretString, E> {
                Ok(SecretString(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for SecretString {
    fn schema_name() -> Cow<'static, str> {
        "Secret".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A literal value or a template with `${env:NAME}` references, e.g. `postgres://app:${env:PGPASS}@db/app`. Write `$${` for a literal `${`.",
            "type": ["string", "number", "boolean"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PGPASS" => Some("s3cret".into()),
            "HOST" => Some("db".into()),
            _ => None,
        }
    }

    #[test]
    fn resolves_references() {
        let cases = [
            ("plain", Ok("plain")),
            ("${env:PGPASS}", Ok("s3cret")),
            (
                "postgres://u:${env:PGPASS}@${env:HOST}/db",
                Ok("postgres://u:s3cret@db/db"),
            ),
            ("cost: $5 and $${env:X}", Ok("cost: $5 and ${env:X}")),
            (
                "${env:MISSING}",
                Err("environment variable `MISSING` is not set"),
            ),
        ];
        for (template, want) in cases {
            let got = SecretString::new(template).resolve(env);
            assert_eq!(got.as_deref().map_err(String::as_str), want, "{template}");
        }
    }

    #[test]
    fn rejects_bad_references() {
        let cases = [
            (
                "${vault:x}",
                "${vault:x}",
                "unknown secret provider `vault`",
                None,
            ),
            (
                "a${evn:X}b",
                "${evn:X}",
                "unknown secret provider `evn`",
                Some("${env:X}"),
            ),
            (
                "${PGPASS}",
                "${PGPASS}",
                "names no provider",
                Some("${env:PGPASS}"),
            ),
            ("x ${env:PG", "${env:PG", "unterminated", None),
            (
                "${env:9X}",
                "${env:9X}",
                "invalid environment variable name",
                None,
            ),
        ];
        for (template, reference, message, suggestion) in cases {
            let err = SecretString::new(template).parts().unwrap_err();
            assert_eq!(err.reference, reference, "{template}");
            assert!(err.message.contains(message), "{template}: {}", err.message);
            assert_eq!(err.suggestion.as_deref(), suggestion, "{template}");
        }
    }

    #[test]
    fn inspection() {
        let s = SecretString::new("postgres://u:${env:PGPASS}@h/db");
        assert_eq!(s.literal_prefix(), "postgres://u:");
        assert_eq!(s.env_vars(), vec!["PGPASS"]);
        assert!(!s.is_literal());
        assert!(SecretString::new("hunter2").is_literal());
        assert_eq!(
            format!("{:?}", SecretString::new("hunter2")),
            "SecretString(<literal>)"
        );
    }
}
