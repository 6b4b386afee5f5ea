//! Pipelines: ordered phases, each a function or a built-in step.

use super::common::RetryPolicy;
use super::defaults;
use super::units::{FailureTolerance, HumanDuration};
use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A pipeline: phases run in order, each getting the previous one's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Pipeline {
    /// Runs of this pipeline at once (default: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Retries of a failed phase (default 3 attempts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    /// How long a submission's `Idempotency-Key` returns its first run
    /// (default 5m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_window: Option<HumanDuration>,
    /// The phases, in order; names must be unique.
    pub phases: Vec<Phase>,
}

impl Pipeline {
    pub fn idempotency_window(&self) -> std::time::Duration {
        self.idempotency_window
            .map_or(super::defaults::DEDUP_WINDOW, HumanDuration::get)
    }

    pub fn max_attempts(&self) -> u32 {
        self.retry
            .as_ref()
            .map_or(defaults::MAX_ATTEMPTS, RetryPolicy::max_attempts)
    }

    /// The retry policy with defaults applied.
    pub fn retry(&self) -> RetryPolicy {
        let r = self.retry.clone().unwrap_or_default();
        RetryPolicy {
            max_attempts: Some(r.max_attempts()),
            backoff: Some(r.backoff()),
        }
    }

    pub fn phase(&self, name: &str) -> Option<&Phase> {
        self.phases.iter().find(|p| p.name == name)
    }
}

/// One phase: exactly one of `function` or `uses`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Phase {
    /// Name of the phase, unique within the pipeline.
    pub name: String,
    /// Run this declared function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Run this built-in step: `csv-load`, `table-put`, `sql-extract`, `move`, `copy`, `notify` or `pass`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uses: Option<String>,
    /// Parameters of the built-in step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub with: Option<serde_json::Value>,
    /// Run the phase once per item of a list, in parallel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fan_out: Option<FanOut>,
    /// Longest the phase may run (default: the function's timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HumanDuration>,
}

/// What a phase does, resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PhaseAction<'a> {
    Function(&'a str),
    Builtin(Builtin, Option<&'a serde_json::Value>),
}

impl Phase {
    /// What the phase runs. Always `Some` in a loaded (validated) project.
    pub fn action(&self) -> Option<PhaseAction<'_>> {
        match (&self.function, &self.uses) {
            (Some(f), None) => Some(PhaseAction::Function(f)),
            (None, Some(u)) => u
                .parse()
                .ok()
                .map(|b| PhaseAction::Builtin(b, self.with.as_ref())),
            _ => None,
        }
    }

    pub fn timeout(&self) -> Option<Duration> {
        self.timeout.map(HumanDuration::get)
    }
}

/// A built-in pipeline step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// Load CSV objects into a table.
    CsvLoad,
    /// Write the records of the input (a list of objects) into a table.
    TablePut,
    /// Run a SQL file from a bucket on a connection and store the result as an object.
    SqlExtract,
    /// Move objects between buckets or prefixes.
    Move,
    /// Copy objects between buckets or prefixes.
    Copy,
    /// Publish to a topic.
    Notify,
    /// Pass the input on, reshaped by `with` (a template over the input) if
    /// given, like Step Functions' Pass state.
    Pass,
}

impl Builtin {
    pub const ALL: &'static [Builtin] = &[
        Builtin::CsvLoad,
        Builtin::TablePut,
        Builtin::SqlExtract,
        Builtin::Move,
        Builtin::Copy,
        Builtin::Notify,
        Builtin::Pass,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Builtin::CsvLoad => "csv-load",
            Builtin::TablePut => "table-put",
            Builtin::SqlExtract => "sql-extract",
            Builtin::Move => "move",
            Builtin::Copy => "copy",
            Builtin::Notify => "notify",
            Builtin::Pass => "pass",
        }
    }

    pub fn names() -> impl Iterator<Item = &'static str> {
        Builtin::ALL.iter().map(|b| b.as_str())
    }
}

impl FromStr for Builtin {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Builtin::ALL
            .iter()
            .copied()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| format!("unknown built-in step `{s}`"))
    }
}

impl fmt::Display for Builtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Fan-out of a phase over a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct FanOut {
    /// The items: a JSON path into the phase input (`$.items`), the objects
    /// of a bucket (`{ objects: { bucket, prefix, suffix } }`, listed when a
    /// run reaches the phase), or line-aligned byte ranges of one large
    /// object (`{ chunks: { bucket, key, size: 64MiB } }`).
    pub over: FanOutSource,
    /// Items processed at once (default: the function's concurrency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// Failures tolerated before the phase fails: `"10%"` or a count (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerate_failures: Option<FailureTolerance>,
    /// Stop starting items once more have failed than `tolerate_failures`
    /// allows, as the phase can no longer succeed (default false: every
    /// item runs, so each failure is known and the others' results kept).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fail_fast: bool,
}

/// Where fan-out items come from.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum FanOutSource {
    /// A JSON path into the phase input, e.g. `$.items`.
    Path(String),
    /// The objects under a bucket prefix.
    Objects(ObjectsSource),
    /// Line-aligned byte ranges of one object.
    Chunks(ChunksSource),
}

/// `{ chunks: { bucket, key, size } }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct ChunksSource {
    /// The object to split and how.
    pub chunks: ChunksSelector,
}

/// One object cut into chunks of about `size` bytes, each ending after a
/// newline (whole CSV or JSON Lines records). Each item is
/// `{bucket, key, offset, length, index, count}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct ChunksSelector {
    /// A declared bucket (default: the phase input's `bucket`, or its S3 event's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// The key, or a JSON path into the phase input such as `$.file`
    /// (default: the input's `key`, or its S3 event's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// About how many bytes per chunk, e.g. `64MiB`.
    pub size: super::units::ByteSize,
}

/// `{ objects: { bucket, prefix, suffix } }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct ObjectsSource {
    /// The objects to fan out over.
    pub objects: ObjectsSelector,
}

/// A set of objects in a bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct ObjectsSelector {
    /// A declared bucket.
    pub bucket: String,
    /// Only keys starting with this prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Only keys ending with this suffix, e.g. `.sql`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
}

impl<'de> Deserialize<'de> for FanOutSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FanOutSource;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON path such as `$.items`, `{ objects: { bucket, prefix } }` or `{ chunks: { bucket, key, size } }`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FanOutSource, E> {
                Ok(FanOutSource::Path(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FanOutSource, A::Error> {
                // Which form it is depends on its one key; read it, then the rest.
                let map: serde_json::Map<String, serde_json::Value> =
                    Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let value = serde_json::Value::Object(map);
                if value.get("chunks").is_some() {
                    ChunksSource::deserialize(value)
                        .map(FanOutSource::Chunks)
                        .map_err(de::Error::custom)
                } else {
                    ObjectsSource::deserialize(value)
                        .map(FanOutSource::Objects)
                        .map_err(de::Error::custom)
                }
            }
        }
        d.deserialize_any(V)
    }
}
