//! The engine: turns queued messages into runs of functions and pipelines.
//!
//! Data flows *message → dispatcher → delivery → runtime → result*:
//!
//! * [`plan`] is the engine's resolved view of the project (functions with
//!   their runtimes, pipelines with their phases, queues with their policies);
//!   it is built once from the validated project file.
//! * [`Engine`] is the handle the HTTP edge and the CLI use: submit a run,
//!   send a message, rerun a step, wait for a run to change.
//! * A dispatcher per consumed queue leases messages within the queue's
//!   concurrency and hands each to a delivery, which executes the run with a
//!   heartbeat keeping its lease alive, records steps, attempts and logs, and
//!   then acks, retries or dead-letters the message.
//!
//! Built-in steps live beside the engine: `move`/`copy` (objects), `csv-load`
//! (tables) and `notify` (topics, whose deliveries are runs of their own).
//!
//! The engine knows the [`sluice_store::Store`] and
//! [`sluice_runtime::HandlerRuntime`] traits, never a concrete backend, and
//! nothing of HTTP.

mod bus;
mod cancel_watch;
mod chunks;
mod csv_step;
mod delivery;
mod dispatcher;
mod engine;
mod error;
mod extract;
mod fanout;
mod fanout_items;
mod heartbeat;
mod hub;
mod invoke;
mod logs;
mod notify;
mod object_events;
mod objects;
mod own_events;
mod payloads;
pub mod plan;
mod plan_build;
mod plan_routes;
mod run_progress;
mod scheduler;
mod table_put;
mod tokens;
pub mod topics;

pub use bus::{Dispatched, PublishedEvent};
pub use engine::{Engine, EngineOptions, Sent, SubmitRequest};
pub use error::EngineError;
pub use hub::{Hub, Notice};
pub use notify::webhook_signature;
pub use object_events::{bus_notification, OBJECTS_SOURCE};
pub use own_events::{depth_of, MAX_EVENT_DEPTH};
pub use payloads::{payload_ref, INLINE_OUTPUT_LIMIT};
pub use scheduler::ScheduleView;
pub use tokens::CreatedToken;
pub use topics::Published;
