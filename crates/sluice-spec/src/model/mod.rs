//! The typed model of `sluice.yaml`. The JSON Schema is generated from these
//! types, so doc comments on fields are the editor help.

mod buckets;
mod common;
mod connections;
pub mod defaults;
mod extract;
mod functions;
mod pipelines;
mod queues;
mod secret;
mod steps;
mod tables;
mod topics;
mod triggers;
mod units;

pub use buckets::{s3_event_matches, Bucket, Notification, S3Storage, Storage, S3_EVENTS};
pub use common::{Backoff, RetryPolicy, Target, TargetRef};
pub use connections::{Connection, DatabaseKind, Pool, Tls, TlsMode, DATABASE_SCHEMES};
pub use extract::{
    SqlExtract, SQL_EXTRACT_COMPRESSIONS, SQL_EXTRACT_DEFAULT_KEY, SQL_EXTRACT_FORMATS,
    SQL_EXTRACT_KEY_VARIABLES,
};
pub use functions::{Access, Command, Function, Permissions, Runtime};
pub use pipelines::{
    Builtin, ChunksSelector, ChunksSource, FanOut, FanOutSource, ObjectsSelector, ObjectsSource,
    Phase, PhaseAction, Pipeline,
};
pub use queues::Queue;
pub use secret::{SecretPart, SecretString, TemplateError, ENV_PROVIDER};
pub use steps::{CsvLoad, Destination, LoadPolicy, Notify, TablePut, UnknownColumns};
pub use tables::{Column, ColumnType, Table, TableKey};
pub use topics::{Email, Rule, Smtp, SmtpTls, Subscription, SubscriptionKind, Topic, Webhook};
pub use triggers::{
    BucketTrigger, CatchUp, EventTrigger, HttpAuth, HttpMethod, HttpTrigger, Overlap, Trigger,
    TriggerSource,
};
pub use units::{ByteSize, FailureTolerance, HumanDuration};

use crate::diagnostic::Diagnostic;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What resource names (the keys of each section) must match.
pub const NAME_PATTERN: &str = "^[a-z][a-z0-9_-]{0,62}$";

/// A Sluice project: the contents of `sluice.yaml`.
///
/// Resource maps keep the order of the file. Top-level keys starting with
/// `x-` are ignored, so they can hold YAML anchors for `<<: *merge` keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(
    deny_unknown_fields,
    title = "Sluice project file (sluice.yaml)",
    extend("patternProperties" = { "^x-": { "description": "Extension key, ignored (e.g. to hold YAML anchors)." } })
)]
pub struct Project {
    /// Format version of this file; only `1` is supported.
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    /// Display name of the project (default: the directory name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Object stores, by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub buckets: IndexMap<String, Bucket>,
    /// Tables of typed records, by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub tables: IndexMap<String, Table>,
    /// External database connections, by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub connections: IndexMap<String, Connection>,
    /// Publish/subscribe topics, by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub topics: IndexMap<String, Topic>,
    /// Message queues, by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub queues: IndexMap<String, Queue>,
    /// Handler programs, by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub functions: IndexMap<String, Function>,
    /// Multi-phase pipelines, by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub pipelines: IndexMap<String, Pipeline>,
    /// Schedules, HTTP endpoints, bucket events and event patterns, by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub triggers: IndexMap<String, Trigger>,
    /// Event routing rules, by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub rules: IndexMap<String, Rule>,

    /// The project directory (relative paths in the file are relative to it).
    #[serde(skip)]
    pub root: PathBuf,
    /// The project file.
    #[serde(skip)]
    pub file: PathBuf,
    /// Warnings found while loading (errors make loading fail instead).
    #[serde(skip)]
    pub warnings: Vec<Diagnostic>,
}

impl Project {
    /// An empty version-1 project (handy in tests).
    pub fn empty() -> Self {
        Project {
            version: defaults::VERSION,
            project: None,
            buckets: IndexMap::new(),
            tables: IndexMap::new(),
            connections: IndexMap::new(),
            topics: IndexMap::new(),
            queues: IndexMap::new(),
            functions: IndexMap::new(),
            pipelines: IndexMap::new(),
            triggers: IndexMap::new(),
            rules: IndexMap::new(),
            root: PathBuf::new(),
            file: PathBuf::new(),
            warnings: Vec::new(),
        }
    }

    /// The display name: `project`, else the root directory's name, else `sluice`.
    pub fn name(&self) -> String {
        if let Some(p) = &self.project {
            return p.clone();
        }
        self.root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sluice".to_string())
    }
}
