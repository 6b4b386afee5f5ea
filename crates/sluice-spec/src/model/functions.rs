//! Functions: handler programs Sluice runs for events and messages.

use super::common::RetryPolicy;
use super::defaults;
use super::secret::SecretString;
use super::units::{ByteSize, HumanDuration};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A handler program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Function {
    /// How the handler is invoked: `process` (default; event JSON on stdin,
    /// result JSON on stdout) or `lambda` (AWS Lambda runtime API, needs `handler`).
    #[serde(default)]
    pub runtime: Runtime,
    /// The command: a string (split like a shell would, without expansion)
    /// or a list of arguments.
    pub run: Command,
    /// Extra arguments appended to `run`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Environment variables; values may use `${env:NAME}`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub env: IndexMap<String, SecretString>,
    /// Working directory, relative to the project root (default: the project root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<PathBuf>,
    /// Longest an invocation may run before it is killed (default 15m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HumanDuration>,
    /// How long an invocation's `Idempotency-Key` returns its first run
    /// (default 5m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_window: Option<HumanDuration>,
    /// Invocations running at once (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Memory limit, e.g. `512MiB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<ByteSize>,
    /// Largest event handed to a `lambda` handler inline (default 64MiB);
    /// larger events are stored in the `sluice-payloads` bucket and passed
    /// by reference (`{"sluice_payload_ref": {"bucket", "key", "size"}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_payload: Option<ByteSize>,
    /// Handler name for the `lambda` runtime (`_HANDLER`), e.g. `app.handler`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// Retries of failed invocations (default 3 attempts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    /// What the function may access through Sluice's APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
}

impl Function {
    pub fn idempotency_window(&self) -> std::time::Duration {
        self.idempotency_window
            .map_or(super::defaults::DEDUP_WINDOW, HumanDuration::get)
    }

    /// The full argument vector: `run` split into words, then `args`.
    pub fn command(&self) -> Vec<String> {
        let mut argv = self.run.argv().unwrap_or_default();
        argv.extend(self.args.iter().cloned());
        argv
    }

    /// The working directory, resolved against the project `root`.
    pub fn workdir(&self, root: &Path) -> PathBuf {
        match &self.workdir {
            Some(dir) => root.join(dir),
            None => root.to_path_buf(),
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
            .map_or(defaults::FUNCTION_TIMEOUT, HumanDuration::get)
    }

    pub fn concurrency(&self) -> u32 {
        self.concurrency.unwrap_or(defaults::FUNCTION_CONCURRENCY)
    }

    pub fn memory_bytes(&self) -> Option<u64> {
        self.memory.map(ByteSize::bytes)
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
}

/// How a function is invoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Runtime {
    /// A process per invocation: the event on stdin, the result on stdout.
    #[default]
    Process,
    /// The AWS Lambda runtime API, so unmodified Lambda handlers run as-is.
    Lambda,
}

/// A command line: one string split like a shell would, or a list of arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Command {
    /// `python3 handler.py --fast`, split with shell quoting rules (no expansion).
    Line(String),
    /// `["python3", "handler.py"]`.
    Argv(Vec<String>),
}

impl Command {
    /// The argument vector; an error for unbalanced quotes.
    pub fn argv(&self) -> Result<Vec<String>, String> {
        match self {
            Command::Argv(v) => Ok(v.clone()),
            Command::Line(s) => shlex::split(s).ok_or_else(|| {
                format!("cannot split `{s}` into words: unbalanced quotes or trailing `\\`")
            }),
        }
    }
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Command;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a command string or a list of arguments")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Command, E> {
                Ok(Command::Line(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Command, A::Error> {
                let mut out = Vec::new();
                while let Some(arg) = seq.next_element::<Arg>()? {
                    out.push(arg.0);
                }
                Ok(Command::Argv(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// One argument: numbers and booleans are accepted and turned into text.
struct Arg(String);

impl<'de> Deserialize<'de> for Arg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SecretString::deserialize(d).map(|s| Arg(s.template().to_string()))
    }
}

/// What a function may access.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Permissions {
    /// Buckets and the access granted: `read`, `write` or `read-write`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub buckets: IndexMap<String, Access>,
    /// Tables the function may read and write.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<String>,
    /// Topics the function may publish to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// Queues the function may send messages to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<String>,
}

/// Access granted to a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    Read,
    Write,
    ReadWrite,
}

impl Access {
    pub fn can_read(self) -> bool {
        matches!(self, Access::Read | Access::ReadWrite)
    }

    pub fn can_write(self) -> bool {
        matches!(self, Access::Write | Access::ReadWrite)
    }
}
