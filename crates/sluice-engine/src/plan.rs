//! The engine's resolved view of a project: what to run and how.
//!
//! Built once from the validated project file (see `from_project`), so the
//! dispatchers never look at raw configuration. Every function and pipeline
//! gets an implicit queue (`fn.NAME`, `pipeline.NAME`) through which direct
//! invocations flow, and every queue a dead-letter queue (`QUEUE.dlq` unless
//! the project names one), so nothing that fails is ever dropped.

use serde_json::Value;
use sluice_runtime::HandlerRuntime;
use sluice_store::QueueDef;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A function ready to invoke.
#[derive(Clone)]
pub struct FunctionPlan {
    pub name: String,
    pub runtime: Arc<dyn HandlerRuntime>,
    /// Invocations running at once, across all queues and pipelines.
    pub concurrency: u32,
    pub timeout: Duration,
    /// Events larger than this are stored in [`PAYLOAD_BUCKET`] and passed
    /// by reference (`{"sluice_payload_ref": {"bucket", "key", "size"}}`).
    pub max_payload_bytes: Option<usize>,
}

/// The bucket holding events too large to hand over inline.
pub const PAYLOAD_BUCKET: &str = "sluice-payloads";

/// What one pipeline phase does.
#[derive(Debug, Clone)]
pub enum PhaseAction {
    /// Call a declared function with the previous phase's output.
    Function(String),
    /// A built-in step, by name, with its parameters.
    Builtin { name: String, with: Value },
    /// Deliver a message to one subscription of a topic (a notification run).
    Deliver { topic: String },
}

#[derive(Debug, Clone)]
pub struct PhasePlan {
    pub name: String,
    pub action: PhaseAction,
    /// Run the action once per item of a list, in parallel.
    pub fan_out: Option<FanOutPlan>,
}

/// Dynamic parallelism inside a phase.
#[derive(Debug, Clone)]
pub struct FanOutPlan {
    /// Where the items come from.
    pub over: FanOutOver,
    pub max_concurrency: usize,
    /// Attempts per item before it counts as failed.
    pub item_attempts: u32,
    pub item_backoff: sluice_core::Backoff,
    pub tolerate: sluice_spec::FailureTolerance,
    /// Whether items stop being started once the phase cannot succeed.
    pub fail_fast: bool,
}

/// Fan-out over line-aligned byte ranges of one object (see `chunks.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunksPlan {
    /// The bucket, else the phase input's `bucket` (or its S3 event's).
    pub bucket: Option<String>,
    /// A key or a `$`-path into the phase input, else the input's `key`.
    pub key: Option<String>,
    /// About how many bytes per chunk.
    pub size: u64,
}

/// The items of a fan-out.
#[derive(Debug, Clone, PartialEq)]
pub enum FanOutOver {
    /// `$`-path of the list in the phase input (`$` for the input itself);
    /// items are steps named `PHASE[i]`.
    Path(String),
    /// The objects under a bucket prefix, listed when a run first reaches
    /// the phase, in key order; each item is `{bucket, key, version_id, size,
    /// etag, name}` and its step is named by the key after the prefix
    /// (`orders.sql`), or `PHASE/orders.sql` when the pipeline has several
    /// fan-out phases.
    Objects {
        bucket: String,
        prefix: String,
        suffix: Option<String>,
        qualified: bool,
    },
    /// Line-aligned byte ranges of one object; items are steps `PHASE[i]`.
    Chunks(ChunksPlan),
}

#[derive(Debug, Clone)]
pub struct PipelinePlan {
    pub name: String,
    pub phases: Vec<PhasePlan>,
}

/// Who consumes a queue's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumer {
    Function(String),
    Pipeline(String),
    /// Delivers a topic's messages to its subscriptions.
    Topic(String),
}

/// A queue with its policy and, if it is consumed, its consumer.
#[derive(Debug, Clone)]
pub struct QueuePlan {
    pub def: QueueDef,
    pub consumer: Option<Consumer>,
    /// Whether messages may carry a FIFO group.
    pub fifo: bool,
    /// Delay applied to messages sent without one.
    pub default_delay_ms: u64,
}

/// Where a trigger or a bus rule sends its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    Function(String),
    Pipeline(String),
    Queue(String),
    Topic(String),
}

/// A target with the optional input template applied to the event
/// (see [`sluice_core::transform`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetPlan {
    pub kind: TargetKind,
    pub input: Option<serde_json::Value>,
}

/// One target of one bus rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// `rule:NAME` for a declared rule, `trigger:NAME` for an event trigger.
    pub source: String,
    /// Position of the target in its rule, to tell deliveries apart.
    pub index: usize,
    pub target: TargetPlan,
}

/// An HTTP path that starts work, answered at once with the run's id.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpTriggerPlan {
    pub name: String,
    pub path: String,
    /// Upper-case HTTP methods, e.g. `POST`.
    pub methods: Vec<String>,
    /// Whether callers must present a token (the trigger declares `auth`).
    pub requires_auth: bool,
    /// Bearer tokens declared in `auth.tokens` (resolved secrets); API
    /// tokens in scope are accepted too.
    pub tokens: Vec<String>,
    pub target: TargetPlan,
}

/// A schedule trigger, parsed.
#[derive(Debug, Clone)]
pub struct SchedulePlan {
    pub name: String,
    /// The expression as written, stored with the state to detect changes.
    pub expression: String,
    pub schedule: sluice_core::schedule::Schedule,
    pub timezone: chrono_tz::Tz,
    /// Fire once after downtime for everything missed (`true`), or skip it.
    pub catch_up_once: bool,
    pub overlap: sluice_spec::Overlap,
    pub target: TargetPlan,
}

/// Everything the engine runs.
#[derive(Clone, Default)]
pub struct Plan {
    pub functions: BTreeMap<String, FunctionPlan>,
    pub pipelines: BTreeMap<String, PipelinePlan>,
    /// All queues: declared, implicit and dead-letter, dead-letter queues first
    /// so they exist before the queues that name them.
    pub queues: Vec<QueuePlan>,
    /// Bus rules and event triggers, compiled for matching.
    pub routes: sluice_core::pattern::RuleSet<Route>,
    pub http_triggers: Vec<HttpTriggerPlan>,
    pub schedules: Vec<SchedulePlan>,
    pub topics: BTreeMap<String, crate::topics::TopicPlan>,
    /// Declared connections, each with its own pool, shared by every step.
    pub connections: BTreeMap<String, Arc<dyn sluice_sql::Warehouse>>,
}

/// The implicit queue through which a function is invoked directly.
pub fn function_queue(name: &str) -> String {
    format!("fn.{name}")
}

/// The implicit queue through which a pipeline's runs are executed.
pub fn pipeline_queue(name: &str) -> String {
    format!("pipeline.{name}")
}

/// The implicit queue through which a topic's notifications are delivered.
pub fn topic_queue(name: &str) -> String {
    format!("topic.{name}")
}

/// The default dead-letter queue of a queue.
pub fn dead_letter_queue(queue: &str) -> String {
    format!("{queue}.dlq")
}

impl Plan {
    pub fn queue(&self, name: &str) -> Option<&QueuePlan> {
        self.queues.iter().find(|q| q.def.name == name)
    }

    /// Resolves a name given by a user to a queue: a queue's own name, or a
    /// function's or pipeline's implicit queue.
    pub fn resolve_queue(&self, name: &str) -> Option<&QueuePlan> {
        self.queue(name)
            .or_else(|| {
                self.functions
                    .contains_key(name)
                    .then(|| self.queue(&function_queue(name)))
                    .flatten()
            })
            .or_else(|| {
                self.pipelines
                    .contains_key(name)
                    .then(|| self.queue(&pipeline_queue(name)))
                    .flatten()
            })
    }

    /// Names a user may type where a queue is expected.
    pub fn queue_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.queues.iter().map(|q| q.def.name.clone()).collect();
        names.extend(self.functions.keys().cloned());
        names.extend(self.pipelines.keys().cloned());
        names
    }
}

pub use crate::plan_build::{from_project, PlanError, PlanOptions};
