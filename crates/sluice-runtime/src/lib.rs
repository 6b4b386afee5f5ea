//! The seam between the engine and user code: how one call of a handler is run.
//!
//! The engine decides *what* to call and records the outcome; a [`HandlerRuntime`]
//! decides *how* the handler runs. Keeping that behind one trait lets Sluice add
//! runtimes without the engine changing. Two exist:
//!
//! * [`OneshotProcess`] (the default, `runtime: process`): one fresh process per
//!   call, payload on stdin, one JSON document on stdout, logs on stderr.
//! * [`LambdaRuntime`] (`runtime: lambda`): unmodified AWS Lambda handlers as warm,
//!   reused processes speaking the Lambda Runtime API that Sluice serves on
//!   loopback (see [`lambda`]).
//!
//! Both deliver handler log lines (tagged with the request id) and progress
//! reports ([`progress`]) to a [`LogSink`] while the call runs, enforce a memory
//! limit ([`limits`]) and build the handler's environment from the declared env
//! only. A Lambda call costs about 0.1–0.2 ms of Sluice time when warm
//! (`bench/lambda_bench.sh`); [`Timing`] records cold starts and their init time.
//!
//! # Per-invocation overhead of `OneshotProcess`
//!
//! Where the time of a call goes, beyond the handler's own work ([`Timing`] splits
//! it into `spawn_us`, `handler_us` and the rest):
//!
//! 1. **Spawn** (`spawn_us`): building the environment and `fork`/`exec` of the
//!    program (a `PATH` lookup in the handler's env forces fork+exec instead of
//!    `posix_spawn`). Typically well under a millisecond; grows with the server's
//!    resident memory because of page-table copying on fork.
//! 2. **Program start-up** (inside `handler_us`): the interpreter booting and
//!    importing modules (Python ≈ 15–40 ms, Node ≈ 40 ms, a static binary ≈ 1 ms).
//!    Usually the dominant cost, and the reason a warm runtime may come later.
//! 3. **Payload and result transfer** (inside `handler_us`): JSON serialisation,
//!    copying through 64 KiB pipes, and accumulating + parsing stdout. Linear in
//!    size; tens of milliseconds only for payloads of tens of megabytes.
//! 4. **Exit detection** (rest): tokio reaps the child on SIGCHLD (microseconds).
//! 5. **Drain and cleanup** (rest): zero wait when the handler's pipes close at
//!    exit; up to [`OneshotProcess::exit_drain`] when a background child keeps
//!    them open. One `killpg` per call removes stragglers.
//!
//! [`Timing::overhead_us`] gives everything outside `handler_us`.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

mod error;
mod group;
pub mod lambda;
pub mod limits;
mod logs;
mod oneshot;
mod outcome;
mod pipes;
pub mod progress;
mod spec;
mod supervise;

pub use error::{signal_name, ErrorKind, HandlerError};
pub use lambda::{CallerContext, LambdaRuntime, LambdaSpec};
pub use logs::{HandlerLogLine, LogSink, MemorySink, NullSink, Stream};
pub use oneshot::OneshotProcess;
pub use outcome::EXCERPT_BYTES;
pub use pipes::MAX_LOG_LINE_BYTES;
pub use progress::ProgressReport;
pub use spec::{display_command, split_command, ProcessSpec, DEFAULT_PATH, PASSTHROUGH_VARS};

/// One call of a handler.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub run_id: String,
    pub step: String,
    pub attempt_id: String,
    pub function: String,
    /// The input, written to the handler's stdin as one line of JSON.
    pub payload: serde_json::Value,
    /// The call must be over by then; the earlier of this and the spec's timeout wins.
    pub deadline: Instant,
}

/// Runs handler calls.
#[async_trait]
pub trait HandlerRuntime: Send + Sync {
    /// Runs one call to completion. Never panics on handler misbehaviour: every
    /// failure is an [`InvocationResult::Failed`]. Dropping the future stops the
    /// handler (for processes: kills its whole process group).
    async fn invoke(&self, invocation: Invocation, logs: Arc<dyn LogSink>) -> InvocationResult;
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum InvocationResult {
    Succeeded {
        output: serde_json::Value,
        timing: Timing,
    },
    Failed {
        error: HandlerError,
        timing: Timing,
    },
}

impl InvocationResult {
    pub fn is_success(&self) -> bool {
        matches!(self, InvocationResult::Succeeded { .. })
    }

    pub fn timing(&self) -> Timing {
        match self {
            InvocationResult::Succeeded { timing, .. }
            | InvocationResult::Failed { timing, .. } => *timing,
        }
    }

    /// The output, or the error.
    pub fn into_result(self) -> Result<serde_json::Value, HandlerError> {
        match self {
            InvocationResult::Succeeded { output, .. } => Ok(output),
            InvocationResult::Failed { error, .. } => Err(error),
        }
    }
}

/// Where the time of one call went, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    /// Time to spawn the process.
    pub spawn_us: u64,
    /// From spawn to exit (includes interpreter start-up).
    pub handler_us: u64,
    /// The whole `invoke`.
    pub total_us: u64,
    /// A new process was started for this call (always for `OneshotProcess`; for
    /// the Lambda runtime, when no warm process was idle).
    #[serde(default)]
    pub cold_start: bool,
    /// Cold starts of the Lambda runtime: from spawn until the process first
    /// asked for an event (`GET /next`), i.e. its own initialisation. Zero when warm.
    #[serde(default)]
    pub init_us: u64,
}

impl Timing {
    /// Time spent by the runtime outside the handler process: spawn, reaping,
    /// draining, cleanup and result parsing.
    pub fn overhead_us(&self) -> u64 {
        self.total_us.saturating_sub(self.handler_us)
    }
}
