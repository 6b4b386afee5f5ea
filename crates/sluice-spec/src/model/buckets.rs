//! Buckets: object storage with S3-style event notifications.

use super::common::Target;
use super::secret::SecretString;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The S3 event types a notification or bucket trigger may name.
pub const S3_EVENTS: &[&str] = &[
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
];

/// Whether the event `pattern` (e.g. `s3:ObjectCreated:*`) covers the
/// concrete `event` (e.g. `s3:ObjectCreated:Put`).
pub fn s3_event_matches(pattern: &str, event: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => event.starts_with(prefix),
        None => pattern == event,
    }
}

/// An object store.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Bucket {
    /// Keep every version of an object instead of overwriting (default false).
    #[serde(default)]
    pub versioning: bool,
    /// Where objects live: `local` (default, under Sluice's data directory)
    /// or `{ s3: { bucket, ... } }` for any S3-compatible service.
    #[serde(default)]
    pub storage: Storage,
    /// S3-style notification rules: which object events go to which target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<Notification>,
}

/// Where a bucket's objects are stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Storage {
    /// On the local disk, under Sluice's data directory.
    #[default]
    Local,
    /// In a bucket of an S3-compatible service.
    S3(S3Storage),
}

/// Storage in an S3-compatible service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct S3Storage {
    /// Name of the remote bucket.
    pub bucket: String,
    /// Endpoint URL for non-AWS services (MinIO, R2, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Region (default: from the environment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Key prefix under which this bucket's objects are stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Access key id (default: from the environment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<SecretString>,
    /// Secret access key; use `${env:NAME}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<SecretString>,
}

/// `{ s3: ... }` written as a map.
#[derive(Deserialize)]
struct StorageMap {
    s3: Option<S3Storage>,
}

impl JsonSchema for Storage {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Storage".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut s3 = generator.subschema_for::<S3Storage>();
        s3.insert(
            "description".into(),
            "A bucket of an S3-compatible service.".into(),
        );
        schemars::json_schema!({
            "description": "Where a bucket's objects are stored: `local` (default) or `{ s3: { bucket, ... } }`.",
            "oneOf": [
                { "type": "string", "const": "local", "description": "On the local disk, under Sluice's data directory." },
                {
                    "type": "object",
                    "properties": { "s3": s3 },
                    "required": ["s3"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl Serialize for Storage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Storage::Local => s.serialize_str("local"),
            Storage::S3(s3) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("s3", s3)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Storage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Storage;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`local` or `{ s3: { bucket: ... } }`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Storage, E> {
                match v {
                    "local" => Ok(Storage::Local),
                    other => Err(E::unknown_variant(other, &["local", "s3"])),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Storage, A::Error> {
                let m = StorageMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                match m.s3 {
                    Some(s3) => Ok(Storage::S3(s3)),
                    None => Err(de::Error::missing_field("s3")),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// One notification rule: object events matching the filters go to `target`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Notification {
    /// S3 event types, e.g. `s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`.
    pub events: Vec<String>,
    /// Only keys starting with this prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Only keys ending with this suffix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// Where matching events are delivered.
    pub target: Target,
}

impl Notification {
    /// Whether an `event` (e.g. `s3:ObjectCreated:Put`) on object `key` matches.
    pub fn matches(&self, event: &str, key: &str) -> bool {
        self.events.iter().any(|p| s3_event_matches(p, event))
            && key_filter_matches(self.prefix.as_deref(), self.suffix.as_deref(), key)
    }
}

pub(crate) fn key_filter_matches(prefix: Option<&str>, suffix: Option<&str>, key: &str) -> bool {
    prefix.is_none_or(|p| key.starts_with(p)) && suffix.is_none_or(|s| key.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_patterns() {
        assert!(s3_event_matches(
            "s3:ObjectCreated:*",
            "s3:ObjectCreated:Put"
        ));
        assert!(!s3_event_matches(
            "s3:ObjectCreated:*",
            "s3:ObjectRemoved:Delete"
        ));
        assert!(s3_event_matches(
            "s3:ObjectRemoved:Delete",
            "s3:ObjectRemoved:Delete"
        ));
        let n = Notification {
            events: vec!["s3:ObjectCreated:*".into()],
            prefix: Some("incoming/".into()),
            suffix: Some(".csv".into()),
            target: Target::function("f"),
        };
        assert!(n.matches("s3:ObjectCreated:Copy", "incoming/a.csv"));
        assert!(!n.matches("s3:ObjectCreated:Copy", "incoming/a.json"));
    }
}
