//! The Lambda runtime: unmodified AWS Lambda handlers, kept warm between calls.
//!
//! A function with `runtime: lambda` runs as long-lived processes that fetch
//! events from the AWS Lambda Runtime API ([`api`]) which Sluice serves on
//! loopback, one listener per process ([`process`] says why). Processes are
//! reused across invocations, bounded by the function's concurrency and stopped
//! when idle ([`pool`]).
//!
//! Per invocation: take a warm process (or start one), deliver the event, and
//! wait for the earliest of its answer, its exit, or the deadline. Only a clean
//! answer (`/response`, or `/error`, as on AWS) puts the process back in the
//! pool; a timeout, crash, protocol violation or log flood stops it (its whole
//! process group), and the next invocation starts a fresh one. The engine's
//! retry policy decides whether the failed invocation runs again.
//!
//! The environment is the declared `env` plus the variables AWS's clients read
//! (`AWS_LAMBDA_RUNTIME_API`, `_HANDLER`, `AWS_LAMBDA_FUNCTION_NAME`,
//! `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, `AWS_REGION`, ...) and
//! `SLUICE_PROGRESS_URL`; never Sluice's own environment. Because a process
//! serves many calls, per-call values (request id, deadline) reach it through
//! the `/next` headers, not the environment.

mod api;
mod link;
mod output;
mod pool;
mod process;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::body::Bytes;
use tokio::sync::oneshot;

use crate::error::{ErrorKind, HandlerError};
use crate::logs::LogSink;
use crate::oneshot::micros;
use crate::outcome::{human_bytes, parse_output, tail_text};
use crate::{HandlerRuntime, Invocation, InvocationResult, Timing};
use link::{Answer, Delivery, Reply};
use pool::{Lease, Pool};

/// How to run one `runtime: lambda` function (built by the engine).
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaSpec {
    /// Program and arguments, e.g. `["python3", "-m", "awslambdaric", "app.handler"]`.
    pub command: Vec<String>,
    /// The declared env, and only that.
    pub env: BTreeMap<String, String>,
    pub workdir: PathBuf,
    /// `_HANDLER`, e.g. `app.handler`.
    pub handler: String,
    pub function_name: String,
    /// Memory limit in MiB (also `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`); `None`: unlimited.
    pub memory_mb: Option<u64>,
    /// CPU limit in cores; enforced only where cgroups v2 is usable.
    pub cpus: Option<f64>,
    /// Per-invocation time limit; there is no built-in cap.
    pub timeout: Duration,
    /// Most processes (and invocations in flight) at once.
    pub concurrency: u32,
    /// An idle process is stopped after this long.
    pub idle_timeout: Duration,
    /// Largest event and largest response or error body.
    pub max_payload_bytes: usize,
    /// Stdout+stderr bytes one invocation may produce before it fails and its
    /// process is stopped.
    pub max_log_bytes_per_invocation: usize,
    /// `AWS_REGION` and the region in the function ARN.
    pub region: String,
}

impl LambdaSpec {
    /// Default timeout: 15 minutes, like the project file's default.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15 * 60);
    pub const DEFAULT_CONCURRENCY: u32 = 4;
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
    /// Default payload limit: 64 MiB (AWS: 6 MB synchronous, 256 KB async).
    pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 64 * 1024 * 1024;
    pub const DEFAULT_MAX_LOG_BYTES: usize = 16 * 1024 * 1024;
    pub const DEFAULT_REGION: &'static str = "us-east-1";
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` when no limit is set (AWS's maximum).
    pub const REPORTED_MEMORY_MB_WHEN_UNLIMITED: u64 = 10_240;

    /// A spec with every limit at its default.
    pub fn new(
        command: Vec<String>,
        workdir: impl Into<PathBuf>,
        function_name: impl Into<String>,
        handler: impl Into<String>,
    ) -> Self {
        LambdaSpec {
            command,
            env: BTreeMap::new(),
            workdir: workdir.into(),
            handler: handler.into(),
            function_name: function_name.into(),
            memory_mb: None,
            cpus: None,
            timeout: Self::DEFAULT_TIMEOUT,
            concurrency: Self::DEFAULT_CONCURRENCY,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            max_payload_bytes: Self::DEFAULT_MAX_PAYLOAD_BYTES,
            max_log_bytes_per_invocation: Self::DEFAULT_MAX_LOG_BYTES,
            region: Self::DEFAULT_REGION.to_string(),
        }
    }

    pub fn display_command(&self) -> String {
        crate::spec::display_command(&self.command)
    }

    /// `arn:aws:lambda:REGION:000000000000:function:NAME`.
    pub fn function_arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:000000000000:function:{}",
            self.region, self.function_name
        )
    }
}

/// Optional per-call data AWS passes to handlers of mobile-SDK invocations,
/// sent as the `Lambda-Runtime-Client-Context` and
/// `Lambda-Runtime-Cognito-Identity` headers of `/next` when present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerContext {
    /// JSON: `{"client": {...}, "custom": {...}, "env": {...}}`.
    pub client_context: Option<String>,
    /// JSON: `{"cognitoIdentityId": ..., "cognitoIdentityPoolId": ...}`.
    pub cognito_identity: Option<String>,
}

/// Runs a function's invocations on its warm pool of Lambda processes.
/// Dropping it stops every process.
pub struct LambdaRuntime {
    pool: Arc<Pool>,
}

impl std::fmt::Debug for LambdaRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaRuntime")
            .field("function", &self.pool.spec.function_name)
            .field("idle", &self.pool.idle_count())
            .finish()
    }
}

impl LambdaRuntime {
    /// A runtime for `spec`; no process starts until the first invocation.
    pub fn new(spec: LambdaSpec) -> Self {
        LambdaRuntime {
            pool: Pool::new(spec),
        }
    }

    pub fn spec(&self) -> &LambdaSpec {
        &self.pool.spec
    }

    /// Pids of the warm processes now idle.
    pub fn idle_pids(&self) -> Vec<u32> {
        self.pool.idle_pids()
    }

    /// Stops every idle process now (e.g. on shutdown or project reload).
    pub fn stop_idle(&self) {
        self.pool
            .stop_idle_since(Instant::now() + Duration::from_secs(1));
    }

    /// [`HandlerRuntime::invoke`] with the caller's client context and identity.
    pub async fn invoke_with_caller(
        &self,
        invocation: Invocation,
        logs: Arc<dyn LogSink>,
        caller: CallerContext,
    ) -> InvocationResult {
        let started = Instant::now();
        let mut timing = Timing::default();
        let outcome = self.run(invocation, logs, caller, &mut timing).await;
        timing.total_us = micros(started.elapsed());
        match outcome {
            Ok(output) => InvocationResult::Succeeded { output, timing },
            Err(error) => InvocationResult::Failed { error, timing },
        }
    }

    async fn run(
        &self,
        inv: Invocation,
        logs: Arc<dyn LogSink>,
        caller: CallerContext,
        t: &mut Timing,
    ) -> Result<serde_json::Value, HandlerError> {
        let spec = &self.pool.spec;
        let who = format!(
            "lambda handler `{}` for function `{}`",
            spec.display_command(),
            inv.function
        );
        let started = Instant::now();
        let by_timeout = started + spec.timeout;
        let (deadline, limit) = if inv.deadline < by_timeout {
            (inv.deadline, "the invocation deadline")
        } else {
            (by_timeout, "the function timeout")
        };
        let payload =
            Bytes::from(serde_json::to_vec(&inv.payload).unwrap_or_else(|_| b"null".to_vec()));
        if payload.len() > spec.max_payload_bytes {
            let limit = spec.max_payload_bytes;
            let msg = format!(
                "the event for function `{}` is {} but the function accepts at most {}; it was not delivered",
                inv.function, human_bytes(payload.len()), human_bytes(limit)
            );
            return Err(HandlerError::new(ErrorKind::PayloadTooLarge { limit }, msg));
        }
        let timed_out = |what: String| {
            let after = started.elapsed();
            HandlerError::new(
                ErrorKind::TimedOut { after },
                format!("{who} {what} within {after:?} ({limit})"),
            )
        };
        let lease: Lease<'_> = match self.pool.acquire(deadline).await {
            Err(_) => {
                return Err(timed_out(format!(
                    "found no free process (concurrency {})",
                    spec.concurrency
                )))
            }
            Ok(Err(spawn_failed)) => return Err(spawn_failed),
            Ok(Ok(lease)) => lease,
        };
        t.cold_start = lease.cold;
        t.spawn_us = lease.spawn_us;
        let worker = lease.worker();
        let (answer_tx, answer_rx) = oneshot::channel();
        worker.link.deliver(Delivery {
            request_id: inv.request_id.clone(),
            payload,
            deadline_ms: sluice_core::time::now_ms()
                + deadline
                    .saturating_duration_since(Instant::now())
                    .as_millis() as i64,
            trace_id: trace_id(),
            caller,
            sink: logs,
            answer: answer_tx,
        });
        let answer = tokio::time::timeout_at(deadline.into(), answer_rx).await;
        if lease.cold {
            if let Some(first_next) = worker.link.first_next_at.get() {
                t.init_us = micros(first_next.saturating_duration_since(worker.spawned_at));
            }
        }
        let Answer {
            reply,
            handed_out_at,
            answered_at,
        } = match answer {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => {
                let msg = format!("{who} was stopped before answering");
                return Err(HandlerError::new(
                    ErrorKind::ProcessExited {
                        reason: "stopped".into(),
                    },
                    msg,
                ));
            }
            Err(_) => {
                worker.link.abandon();
                let asked = worker.link.first_next_at.get().is_some();
                let what = if asked {
                    format!("did not answer request {}", inv.request_id)
                } else {
                    "never asked for an event (GET /next)".to_string()
                };
                let tail = tail_text(&worker.link.tail());
                drop(lease); // kills the process and its group
                let mut err = timed_out(what);
                err.message = format!("{} and was killed{tail}", err.message);
                return Err(err);
            }
        };
        if let Some(out) = handed_out_at {
            t.handler_us = micros(answered_at.saturating_duration_since(out));
        }
        let tail = || tail_text(&worker.link.tail());
        match reply {
            Reply::Response(body) => {
                lease.release();
                parse_output(&body).map_err(|kind| {
                    let msg = format!(
                        "{who} answered request {} with a body that is not JSON: {kind}",
                        inv.request_id
                    );
                    HandlerError::new(kind, msg)
                })
            }
            Reply::Error(e) => {
                lease.release();
                Err(reported(e, None))
            }
            Reply::InitError(e) => Err(reported(e, Some(&who))),
            Reply::ResponseTooLarge { limit } => {
                lease.release();
                let msg = format!("{who} answered with a body larger than {}; raise the function's payload limit or return less", human_bytes(limit));
                Err(HandlerError::new(ErrorKind::OutputTooLarge { limit }, msg))
            }
            Reply::Protocol(reason) => {
                let msg = format!("{who} broke the Lambda Runtime API protocol: {reason}; the process was stopped");
                Err(HandlerError::new(
                    ErrorKind::ProtocolViolation { reason },
                    msg,
                ))
            }
            Reply::LogFlood { limit } => {
                let reason = format!(
                    "wrote more than {} of logs in one invocation",
                    human_bytes(limit)
                );
                let msg = format!("{who} {reason} and was stopped");
                Err(HandlerError::new(
                    ErrorKind::ProtocolViolation { reason },
                    msg,
                ))
            }
            Reply::Exited(description) => Err(process::exited_error(&who, &description, &tail())),
        }
    }
}

/// The attempt error for an error the handler reported itself.
fn reported(e: link::ReportedError, init_of: Option<&str>) -> HandlerError {
    let message = match init_of {
        Some(who) => format!(
            "{who} failed to initialise: {}: {}",
            e.error_type, e.message
        ),
        None => e.message,
    };
    HandlerError::new(
        ErrorKind::HandlerReported {
            error_type: e.error_type,
            stack_trace: e.stack_trace,
        },
        message,
    )
}

/// An X-Ray style trace header: `Root=1-<time>-<random>;Parent=<random>;Sampled=0`.
fn trace_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let random = crate::progress::random_token();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &random[..24],
        &random[16..32]
    )
}

#[async_trait]
impl HandlerRuntime for LambdaRuntime {
    async fn invoke(&self, invocation: Invocation, logs: Arc<dyn LogSink>) -> InvocationResult {
        self.invoke_with_caller(invocation, logs, CallerContext::default())
            .await
    }
}
