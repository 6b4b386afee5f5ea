//! Triggers: schedules, HTTP endpoints, bucket events and event patterns
//! that start a target.

use super::buckets::key_filter_matches;
use super::common::Target;
use super::defaults;
use super::secret::SecretString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What starts a target: exactly one of `schedule`, `http`, `bucket` or `event`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Trigger {
    /// `cron(0 2 * * ? *)`, `rate(5 minutes)`, `at(2030-01-01T00:00:00)`
    /// or a five-field cron line (`0 2 * * *`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// IANA time zone of the schedule, e.g. `Europe/Paris` (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Runs missed while Sluice was down: `skip` (default) or `once`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch_up: Option<CatchUp>,
    /// When the previous run is still going: `skip` (default), `queue` or `allow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap: Option<Overlap>,
    /// An HTTP endpoint; the request body is the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpTrigger>,
    /// Authentication of the `http` endpoint (default: none, unless the API requires tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<HttpAuth>,
    /// Object events in a declared bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<BucketTrigger>,
    /// Events published to the event bus that match a pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventTrigger>,
    /// What to start.
    pub target: Target,
}

/// The source of a trigger, resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TriggerSource<'a> {
    Schedule(&'a str),
    Http(&'a HttpTrigger),
    Bucket(&'a BucketTrigger),
    Event(&'a EventTrigger),
}

impl Trigger {
    /// The keys among `schedule`, `http`, `bucket`, `event` that are set.
    pub fn source_keys(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.schedule.is_some() {
            keys.push("schedule");
        }
        if self.http.is_some() {
            keys.push("http");
        }
        if self.bucket.is_some() {
            keys.push("bucket");
        }
        if self.event.is_some() {
            keys.push("event");
        }
        keys
    }

    /// The trigger's source. Always `Some` in a loaded (validated) project.
    pub fn source(&self) -> Option<TriggerSource<'_>> {
        if self.source_keys().len() != 1 {
            return None;
        }
        if let Some(s) = &self.schedule {
            return Some(TriggerSource::Schedule(s));
        }
        if let Some(h) = &self.http {
            return Some(TriggerSource::Http(h));
        }
        if let Some(b) = &self.bucket {
            return Some(TriggerSource::Bucket(b));
        }
        self.event.as_ref().map(TriggerSource::Event)
    }

    pub fn catch_up(&self) -> CatchUp {
        self.catch_up.unwrap_or_default()
    }

    pub fn overlap(&self) -> Overlap {
        self.overlap.unwrap_or_default()
    }

    /// Accepted bearer tokens (empty: no authentication).
    pub fn auth_tokens(&self) -> &[SecretString] {
        self.auth.as_ref().map_or(&[], |a| a.tokens.as_slice())
    }
}

/// What to do about runs missed while Sluice was not running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// Forget missed runs.
    #[default]
    Skip,
    /// Run once for all missed runs.
    Once,
}

/// What to do when a run is due while the previous one is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// Do not start the new run.
    #[default]
    Skip,
    /// Start it when the previous one finishes.
    Queue,
    /// Start it anyway.
    Allow,
}

/// An HTTP endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct HttpTrigger {
    /// URL path, starting with `/`, unique among triggers.
    pub path: String,
    /// Accepted methods (default `[POST]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<HttpMethod>>,
}

impl HttpTrigger {
    pub fn methods(&self) -> Vec<HttpMethod> {
        self.methods
            .clone()
            .unwrap_or_else(|| vec![HttpMethod::Post])
    }
}

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// Authentication of an HTTP trigger.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct HttpAuth {
    /// Accepted bearer tokens; use `${env:NAME}`. API tokens
    /// (`sluice token create`) whose scope covers the target are accepted too,
    /// so `auth: {}` accepts API tokens only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<SecretString>,
}

/// Object events in a bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct BucketTrigger {
    /// A declared bucket.
    pub name: String,
    /// S3 event types (default `[s3:ObjectCreated:*]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// Only keys starting with this prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Only keys ending with this suffix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
}

impl BucketTrigger {
    /// The event patterns with the default applied.
    pub fn events(&self) -> Vec<String> {
        if self.events.is_empty() {
            defaults::BUCKET_TRIGGER_EVENTS
                .iter()
                .map(|e| e.to_string())
                .collect()
        } else {
            self.events.clone()
        }
    }

    /// Whether an `event` (e.g. `s3:ObjectCreated:Put`) on object `key` matches.
    pub fn matches(&self, event: &str, key: &str) -> bool {
        self.events()
            .iter()
            .any(|p| super::buckets::s3_event_matches(p, event))
            && key_filter_matches(self.prefix.as_deref(), self.suffix.as_deref(), key)
    }
}

/// Events matching a pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct EventTrigger {
    /// EventBridge-style pattern, e.g. `{ source: [shop], detail-type: [order] }`.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub pattern: serde_json::Value,
}
