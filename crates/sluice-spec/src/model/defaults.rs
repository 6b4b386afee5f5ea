//! Every default value of the project file, in one place.
//!
//! The typed accessors on the model (`Function::timeout()`,
//! `Queue::visibility_timeout()`, ...) apply these; the raw fields stay
//! `Option` so a serialized project shows only what the user wrote.

use std::time::Duration;

/// The only supported `version`.
pub const VERSION: u32 = 1;
/// Versions this crate can read.
pub const SUPPORTED_VERSIONS: &[u32] = &[1];
/// The project file name looked up in a project directory.
pub const PROJECT_FILE: &str = "sluice.yaml";

// Functions.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(15 * 60);
pub const FUNCTION_CONCURRENCY: u32 = 4;

// Retries (functions and pipelines).
pub const MAX_ATTEMPTS: u32 = 3;
pub const BACKOFF_INITIAL: Duration = Duration::from_secs(1);
pub const BACKOFF_MAX: Duration = Duration::from_secs(5 * 60);
pub const BACKOFF_MULTIPLIER: f64 = 2.0;
pub const BACKOFF_JITTER: f64 = 0.5;

// Queues.
pub const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(30);
pub const MAX_RECEIVE_COUNT: u32 = 5;
pub const DEDUP_WINDOW: Duration = Duration::from_secs(5 * 60);
pub const QUEUE_DELAY: Duration = Duration::ZERO;
/// Suffix of the implicit dead-letter queue of a queue without `dead_letter`.
pub const DEAD_LETTER_SUFFIX: &str = ".dlq";

// Connections.
pub const POOL_MAX: u32 = 10;
pub const POOL_MIN: u32 = 0;
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

// Built-in steps.
/// Rows written per batch by `csv-load`.
pub const CSV_BATCH_SIZE: usize = 10_000;

// Topics.
pub const SMTP_PORT: u16 = 587;

// Triggers.
/// Methods accepted by an `http` trigger that lists none.
pub const HTTP_METHODS: &[&str] = &["POST"];
/// Events of a `bucket` trigger that lists none.
pub const BUCKET_TRIGGER_EVENTS: &[&str] = &["s3:ObjectCreated:*"];
