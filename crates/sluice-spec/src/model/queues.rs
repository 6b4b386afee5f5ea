//! Queues: durable message queues with retries and dead-lettering.

use super::common::{Backoff, Target};
use super::defaults;
use super::units::HumanDuration;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A message queue.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Queue {
    /// Who consumes the messages: a `function` or a `pipeline` (default: nobody;
    /// messages wait to be received through the API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// How long a received message stays invisible before redelivery (default 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility_timeout: Option<HumanDuration>,
    /// Deliveries before a message is dead-lettered, at least 1 (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_receive_count: Option<u32>,
    /// Declared queue receiving messages that exhausted their deliveries
    /// (default: an implicit queue `<name>.dlq`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<String>,
    /// Messages processed at once, at least 1; 1 means strictly sequential
    /// (default: the consumer's own concurrency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Deliver messages with the same group key in order (default false).
    #[serde(default)]
    pub fifo: bool,
    /// Messages with the same deduplication id within this window are dropped (default 5m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_window: Option<HumanDuration>,
    /// Delay before a new message becomes visible (default 0s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<HumanDuration>,
    /// Delay before a failed message is redelivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
}

impl Queue {
    pub fn visibility_timeout(&self) -> Duration {
        self.visibility_timeout
            .map_or(defaults::VISIBILITY_TIMEOUT, HumanDuration::get)
    }

    pub fn max_receive_count(&self) -> u32 {
        self.max_receive_count
            .unwrap_or(defaults::MAX_RECEIVE_COUNT)
    }

    /// The dead-letter queue of the queue called `name`: the declared one, or `<name>.dlq`.
    pub fn dead_letter_queue(&self, name: &str) -> String {
        match &self.dead_letter {
            Some(dlq) => dlq.clone(),
            None => format!("{name}{}", defaults::DEAD_LETTER_SUFFIX),
        }
    }

    pub fn concurrency(&self) -> Option<u32> {
        self.concurrency
    }

    pub fn dedup_window(&self) -> Duration {
        self.dedup_window
            .map_or(defaults::DEDUP_WINDOW, HumanDuration::get)
    }

    pub fn delay(&self) -> Duration {
        self.delay.map_or(defaults::QUEUE_DELAY, HumanDuration::get)
    }

    /// The redelivery backoff with defaults applied.
    pub fn backoff(&self) -> Backoff {
        self.backoff.clone().unwrap_or_default()
    }
}
