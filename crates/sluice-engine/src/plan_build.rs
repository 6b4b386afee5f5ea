//! Builds the engine's [`Plan`] from a validated project file.
//!
//! This is where defaults meet the store's vocabulary: durations become
//! milliseconds, secrets are resolved from the environment, commands are
//! split, and the implicit queues of functions and pipelines and the
//! dead-letter queue of every queue are declared.

use crate::plan::{
    dead_letter_queue, function_queue, pipeline_queue, topic_queue, Consumer, FanOutOver,
    FanOutPlan, FunctionPlan, PhaseAction, PhasePlan, PipelinePlan, Plan, QueuePlan,
};
use sluice_core::Backoff;
use sluice_runtime::{LambdaRuntime, LambdaSpec, OneshotProcess, ProcessSpec};
use sluice_spec::{FailureTolerance, FanOutSource, Project, Runtime};
use sluice_store::QueueDef;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// Attempts at delivering one notification before it is dead-lettered.
const NOTIFICATION_ATTEMPTS: u32 = 8;

/// Settings that come from the command line rather than the project file.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Visibility timeout of the implicit queues; heartbeats extend it while work runs.
    pub lease_timeout: Duration,
    /// The S3 endpoint of the project's buckets, given to every handler as
    /// `AWS_ENDPOINT_URL` (unless its `env` sets one) so AWS SDKs reach it
    /// with no code change.
    pub s3_endpoint: Option<String>,
    /// Issues each function credentials scoped to its `permissions`.
    pub issuer: Option<sluice_core::credentials::Issuer>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            lease_timeout: Duration::from_secs(30),
            s3_endpoint: None,
            issuer: None,
        }
    }
}

/// A project that validated but cannot be started as it stands.
#[derive(Debug, Error)]
pub enum PlanError {
    /// A `${env:NAME}` reference that cannot be resolved.
    #[error("{owner}: {key}: {reason}")]
    Secret {
        owner: String,
        key: String,
        reason: String,
    },
    /// Something declared that this version cannot serve, or an invalid pattern.
    #[error("{owner}: {reason}")]
    Unsupported { owner: String, reason: String },
}

/// Resolves the project into a plan. `env` looks up `${env:NAME}` references.
pub fn from_project(
    project: &Project,
    options: &PlanOptions,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Plan, PlanError> {
    let mut plan = Plan::default();
    for (name, function) in &project.functions {
        let mut vars = BTreeMap::new();
        for (key, value) in &function.env {
            let resolved = value.resolve(&env).map_err(|reason| PlanError::Secret {
                owner: format!("function `{name}`"),
                key: format!("env `{key}`"),
                reason,
            })?;
            vars.insert(key.clone(), resolved);
        }
        if let Some(endpoint) = &options.s3_endpoint {
            vars.entry("AWS_ENDPOINT_URL".to_string())
                .or_insert_with(|| endpoint.clone());
            vars.entry("AWS_DEFAULT_REGION".to_string())
                .or_insert_with(|| "us-east-1".to_string());
        }
        if let Some(issuer) = &options.issuer {
            if !vars.contains_key("AWS_ACCESS_KEY_ID") {
                let credentials = issuer.issue(&grant(name, function.permissions.as_ref()));
                vars.insert("AWS_ACCESS_KEY_ID".into(), credentials.access_key_id);
                vars.insert(
                    "AWS_SECRET_ACCESS_KEY".into(),
                    credentials.secret_access_key,
                );
                vars.insert("AWS_SESSION_TOKEN".into(), credentials.session_token);
            }
        }
        let runtime = function_runtime(name, function, &project.root, vars);
        plan.functions.insert(
            name.clone(),
            FunctionPlan {
                name: name.clone(),
                runtime,
                concurrency: function.concurrency(),
                timeout: function.timeout(),
                max_payload_bytes: (function.runtime == Runtime::Lambda)
                    .then(|| max_payload(function)),
            },
        );
        let retry = function.retry();
        let mut def = implicit_queue(
            &function_queue(name),
            options,
            retry.max_attempts(),
            backoff(&retry.backoff()),
            None,
        );
        def.dedup_window_ms = millis(function.idempotency_window());
        push_with_dead_letter(
            &mut plan,
            def,
            Some(Consumer::Function(name.clone())),
            false,
        );
    }
    for (name, pipeline) in &project.pipelines {
        let retry = pipeline.retry();
        let fan_out_phases = pipeline
            .phases
            .iter()
            .filter(|p| p.fan_out.is_some())
            .count();
        let phases = pipeline.phases.iter().filter_map(|phase| {
            let action = match phase.action()? {
                sluice_spec::PhaseAction::Function(f) => PhaseAction::Function(f.to_string()),
                sluice_spec::PhaseAction::Builtin(b, with) => PhaseAction::Builtin {
                    name: b.to_string(),
                    with: with.cloned().unwrap_or_default(),
                },
            };
            let fan_out = phase.fan_out.as_ref().map(|f| FanOutPlan {
                over: match &f.over {
                    FanOutSource::Path(path) => FanOutOver::Path(path.clone()),
                    FanOutSource::Objects(o) => FanOutOver::Objects {
                        bucket: o.objects.bucket.clone(),
                        prefix: o.objects.prefix.clone().unwrap_or_default(),
                        suffix: o.objects.suffix.clone(),
                        qualified: fan_out_phases > 1,
                    },
                    FanOutSource::Chunks(c) => FanOutOver::Chunks(crate::plan::ChunksPlan {
                        bucket: c.chunks.bucket.clone(),
                        key: c.chunks.key.clone(),
                        size: c.chunks.size.bytes(),
                    }),
                },
                max_concurrency: f.max_concurrency.unwrap_or(4).max(1) as usize,
                item_attempts: retry.max_attempts().max(1),
                item_backoff: backoff(&retry.backoff()),
                tolerate: f.tolerate_failures.unwrap_or(FailureTolerance::Count(0)),
                fail_fast: f.fail_fast,
            });
            Some(PhasePlan {
                name: phase.name.clone(),
                action,
                fan_out,
            })
        });
        plan.pipelines.insert(
            name.clone(),
            PipelinePlan {
                name: name.clone(),
                phases: phases.collect(),
            },
        );
        let mut def = implicit_queue(
            &pipeline_queue(name),
            options,
            retry.max_attempts(),
            backoff(&retry.backoff()),
            pipeline.concurrency,
        );
        def.dedup_window_ms = millis(pipeline.idempotency_window());
        push_with_dead_letter(
            &mut plan,
            def,
            Some(Consumer::Pipeline(name.clone())),
            false,
        );
    }
    for (name, topic) in &project.topics {
        plan.topics
            .insert(name.clone(), crate::topics::topic_plan(name, topic, &env)?);
        // Deliveries are retried more patiently than work: a receiver that
        // is down for minutes still gets the message.
        let def = implicit_queue(
            &topic_queue(name),
            options,
            NOTIFICATION_ATTEMPTS,
            Backoff {
                initial_ms: 1_000,
                max_ms: 5 * 60_000,
                multiplier: 2.0,
                jitter: 0.2,
            },
            None,
        );
        push_with_dead_letter(&mut plan, def, Some(Consumer::Topic(name.clone())), false);
    }
    for (name, connection) in &project.connections {
        plan.connections.insert(
            name.clone(),
            open_connection(name, connection, project, &env)?,
        );
    }
    declare_queues(project, &mut plan);
    crate::plan_routes::declare_routes(project, &mut plan, &env)?;
    Ok(plan)
}

/// A connection's pool (opened lazily: nothing connects until a step queries).
fn open_connection(
    name: &str,
    connection: &sluice_spec::Connection,
    project: &Project,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Arc<dyn sluice_sql::Warehouse>, PlanError> {
    let owner = format!("connection `{name}`");
    // Errors of sluice-sql already name the connection; keep only the reason.
    let reason = |e: sluice_sql::SqlError| match e {
        sluice_sql::SqlError::Config { reason, .. } => reason,
        other => other.to_string(),
    };
    let settings = sluice_sql::settings(name, connection, &project.root, env).map_err(|e| {
        PlanError::Secret {
            owner: owner.clone(),
            key: "url".into(),
            reason: reason(e).trim_start_matches("url: ").to_string(),
        }
    })?;
    sluice_sql::open(settings).map_err(|e| PlanError::Unsupported {
        owner,
        reason: reason(e),
    })
}

fn declare_queues(project: &Project, plan: &mut Plan) {
    // Declared dead-letter queues first, so the queues naming them find them.
    let named_dead_letters: Vec<String> = project
        .queues
        .values()
        .filter_map(|q| q.dead_letter.clone())
        .collect();
    let mut ordered: Vec<_> = project.queues.iter().collect();
    ordered.sort_by_key(|(name, _)| !named_dead_letters.contains(name));
    for (name, queue) in ordered {
        let consumer = queue.target.as_ref().and_then(|t| match t.get()? {
            sluice_spec::TargetRef::Function(f) => Some(Consumer::Function(f.to_string())),
            sluice_spec::TargetRef::Pipeline(p) => Some(Consumer::Pipeline(p.to_string())),
            _ => None,
        });
        let def = QueueDef {
            name: name.clone(),
            visibility_timeout_ms: millis(queue.visibility_timeout()),
            max_receive_count: queue.max_receive_count().max(1),
            dead_letter_queue: Some(queue.dead_letter_queue(name)),
            concurrency: queue.concurrency(),
            dedup_window_ms: millis(queue.dedup_window()),
            backoff: backoff(&queue.backoff()),
        };
        let default_delay = millis(queue.delay());
        if queue.dead_letter.is_some() {
            plan.queues.push(QueuePlan {
                def,
                consumer,
                fifo: queue.fifo,
                default_delay_ms: default_delay,
            });
        } else {
            push_with_dead_letter(plan, def, consumer, queue.fifo);
            if let Some(last) = plan.queues.last_mut() {
                last.default_delay_ms = default_delay;
            }
        }
    }
}

fn implicit_queue(
    name: &str,
    options: &PlanOptions,
    max_attempts: u32,
    backoff: Backoff,
    concurrency: Option<u32>,
) -> QueueDef {
    QueueDef {
        name: name.to_string(),
        visibility_timeout_ms: millis(options.lease_timeout),
        max_receive_count: max_attempts.max(1),
        dead_letter_queue: Some(dead_letter_queue(name)),
        concurrency,
        dedup_window_ms: millis(sluice_spec::defaults::DEDUP_WINDOW),
        backoff,
    }
}

/// Adds the queue and, before it, its default dead-letter queue.
fn push_with_dead_letter(plan: &mut Plan, def: QueueDef, consumer: Option<Consumer>, fifo: bool) {
    let dlq = dead_letter_queue(&def.name);
    if plan.queue(&dlq).is_none() {
        let dead = QueueDef {
            name: dlq,
            dead_letter_queue: None,
            concurrency: None,
            ..def.clone()
        };
        plan.queues.push(QueuePlan {
            def: dead,
            consumer: None,
            fifo,
            default_delay_ms: 0,
        });
    }
    plan.queues.push(QueuePlan {
        def,
        consumer,
        fifo,
        default_delay_ms: 0,
    });
}

fn backoff(b: &sluice_spec::Backoff) -> Backoff {
    Backoff {
        initial_ms: millis(b.initial()),
        max_ms: millis(b.max()),
        multiplier: b.multiplier(),
        jitter: b.jitter(),
    }
}

fn millis(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}

/// The runtime a function declares: a warm Lambda Runtime API pool, or one
/// process per invocation.
fn function_runtime(
    name: &str,
    function: &sluice_spec::Function,
    root: &std::path::Path,
    env: BTreeMap<String, String>,
) -> Arc<dyn sluice_runtime::HandlerRuntime> {
    match function.runtime {
        Runtime::Lambda => {
            let handler = function.handler.clone().unwrap_or_default();
            let mut spec =
                LambdaSpec::new(function.command(), function.workdir(root), name, handler);
            spec.env = env;
            spec.memory_mb = function.memory_bytes().map(|b| b.div_ceil(1 << 20));
            spec.timeout = function.timeout();
            spec.concurrency = function.concurrency();
            // The engine passes larger events by reference, so the runtime's
            // own limit only needs room for the reference.
            spec.max_payload_bytes =
                max_payload(function).max(LambdaSpec::DEFAULT_MAX_PAYLOAD_BYTES);
            Arc::new(LambdaRuntime::new(spec))
        }
        Runtime::Process => {
            let mut spec = ProcessSpec::new(function.command(), function.workdir(root));
            spec.env = env;
            spec.timeout = function.timeout();
            spec.memory_limit_bytes = function.memory_bytes();
            Arc::new(OneshotProcess::new(spec))
        }
    }
}

/// What a function's `permissions` allow, as a credential grant.
/// Every function may also read the payloads passed to it by reference.
fn grant(
    function: &str,
    permissions: Option<&sluice_spec::Permissions>,
) -> sluice_core::credentials::Grant {
    use sluice_core::credentials::BucketAccess;
    let declared =
        permissions
            .into_iter()
            .flat_map(|p| p.buckets.iter())
            .map(|(bucket, access)| {
                (
                    bucket.clone(),
                    BucketAccess {
                        read: access.can_read(),
                        write: access.can_write(),
                    },
                )
            });
    let payloads = (
        crate::plan::PAYLOAD_BUCKET.to_string(),
        BucketAccess {
            read: true,
            write: false,
        },
    );
    let buckets = declared.chain(std::iter::once(payloads)).collect();
    sluice_core::credentials::Grant {
        principal: format!("function `{function}`"),
        buckets,
    }
}

/// The largest event a Lambda handler gets inline.
fn max_payload(function: &sluice_spec::Function) -> usize {
    function
        .max_payload
        .map_or(LambdaSpec::DEFAULT_MAX_PAYLOAD_BYTES, |b| {
            b.bytes() as usize
        })
}
