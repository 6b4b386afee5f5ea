//! Domain types and pure logic shared by every Sluice crate.
//!
//! Nothing here does I/O: identifiers, the clock abstraction, run/step/attempt
//! statuses and their legal transitions, and the retry backoff arithmetic. Keeping
//! them pure lets the store, the engine and the HTTP edge agree on one vocabulary
//! and lets the arithmetic be tested with plain tables of data.

pub mod backoff;
pub mod credentials;
pub mod id;
pub mod key_template;
pub mod pattern;
pub mod schedule;
pub mod status;
pub mod time;
pub mod token;
pub mod transform;

pub use backoff::Backoff;
pub use status::{AttemptStatus, RunKind, RunStatus, StepStatus};
