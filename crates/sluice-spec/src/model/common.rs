//! Pieces shared by several resources: targets, retry policies, backoff.

use super::defaults;
use super::units::HumanDuration;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where an event, message or schedule is delivered: exactly one of
/// `function`, `pipeline`, `queue` or `topic`, plus an optional `input`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Target {
    /// Invoke this function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Start a run of this pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// Send a message to this queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Publish to this topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Input transformation: a JSON template whose strings may reference the
    /// event (e.g. `{"key": "$.detail.object.key"}`). Default: the event itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
}

/// A resolved [`Target`]: what kind of resource, and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetRef<'a> {
    Function(&'a str),
    Pipeline(&'a str),
    Queue(&'a str),
    Topic(&'a str),
}

impl<'a> TargetRef<'a> {
    pub fn name(&self) -> &'a str {
        match *self {
            TargetRef::Function(n)
            | TargetRef::Pipeline(n)
            | TargetRef::Queue(n)
            | TargetRef::Topic(n) => n,
        }
    }

    /// The key it was written under: `function`, `pipeline`, `queue` or `topic`.
    pub fn kind(&self) -> &'static str {
        match self {
            TargetRef::Function(_) => "function",
            TargetRef::Pipeline(_) => "pipeline",
            TargetRef::Queue(_) => "queue",
            TargetRef::Topic(_) => "topic",
        }
    }
}

impl Target {
    pub fn function(name: impl Into<String>) -> Self {
        Target {
            function: Some(name.into()),
            ..Target::default()
        }
    }

    pub fn pipeline(name: impl Into<String>) -> Self {
        Target {
            pipeline: Some(name.into()),
            ..Target::default()
        }
    }

    pub fn queue(name: impl Into<String>) -> Self {
        Target {
            queue: Some(name.into()),
            ..Target::default()
        }
    }

    pub fn topic(name: impl Into<String>) -> Self {
        Target {
            topic: Some(name.into()),
            ..Target::default()
        }
    }

    /// All the destinations written (a valid target has exactly one).
    pub fn refs(&self) -> Vec<TargetRef<'_>> {
        let mut out = Vec::new();
        if let Some(n) = &self.function {
            out.push(TargetRef::Function(n));
        }
        if let Some(n) = &self.pipeline {
            out.push(TargetRef::Pipeline(n));
        }
        if let Some(n) = &self.queue {
            out.push(TargetRef::Queue(n));
        }
        if let Some(n) = &self.topic {
            out.push(TargetRef::Topic(n));
        }
        out
    }

    /// The destination. Always `Some` in a loaded (validated) project.
    pub fn get(&self) -> Option<TargetRef<'_>> {
        match self.refs().as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }
}

/// How often and how patiently a failed invocation is retried.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Total attempts including the first (default 3; 1 = never retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Delay between attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
}

impl RetryPolicy {
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts.unwrap_or(defaults::MAX_ATTEMPTS)
    }

    pub fn backoff(&self) -> Backoff {
        self.backoff.clone().unwrap_or_default()
    }
}

/// Exponential backoff: the delay before retry `n` is
/// `min(max, initial * multiplier^(n-1))`, with a `jitter` fraction randomised.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Backoff {
    /// Delay before the first retry (default 1s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial: Option<HumanDuration>,
    /// Upper bound of the delay (default 5m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<HumanDuration>,
    /// Growth factor per retry, at least 1.0 (default 2.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<f64>,
    /// Fraction of each delay that is randomised, 0.0–1.0 (default 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<f64>,
}

impl Backoff {
    pub fn initial(&self) -> Duration {
        self.initial
            .map_or(defaults::BACKOFF_INITIAL, HumanDuration::get)
    }

    pub fn max(&self) -> Duration {
        self.max.map_or(defaults::BACKOFF_MAX, HumanDuration::get)
    }

    pub fn multiplier(&self) -> f64 {
        self.multiplier.unwrap_or(defaults::BACKOFF_MULTIPLIER)
    }

    pub fn jitter(&self) -> f64 {
        self.jitter.unwrap_or(defaults::BACKOFF_JITTER)
    }
}
