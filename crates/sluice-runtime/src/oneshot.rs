//! The one-shot process runtime: every invocation spawns the handler command, feeds
//! it the payload on stdin, and takes one JSON document from its stdout.
//!
//! This is the simplest contract a handler in any language can meet (read stdin,
//! print JSON, exit 0), so it is Sluice's default. The work here is making the
//! process boundary airtight: a clean environment, its own process group so that
//! timeouts and cancellation kill grandchildren too, bounded output, and never
//! hanging on a pipe held open by a straggler. See the crate docs for where the
//! per-invocation overhead goes.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::process::Command;
use tracing::{debug, warn};

use crate::error::{ErrorKind, HandlerError};
use crate::group::ProcessGroup;
use crate::limits::{self, ResourceLimits};
use crate::logs::LogSink;
use crate::outcome::{classify, Context, Ending};
use crate::pipes::{pump_stderr, read_bounded, write_stdin};
use crate::progress::{ProgressHub, PROGRESS_URL_VAR};
use crate::spec::{handler_env, CallContext, ProcessSpec};
use crate::supervise::Supervised;
use crate::{HandlerRuntime, Invocation, InvocationResult, Timing};

/// How long to wait for a SIGKILLed group leader to be reaped before giving up.
const REAP_BOUND: Duration = Duration::from_secs(5);

/// Runs a handler as a fresh process per invocation.
#[derive(Debug, Clone)]
pub struct OneshotProcess {
    pub spec: ProcessSpec,
    /// On timeout: time between SIGTERM and SIGKILL to the process group.
    pub kill_grace: Duration,
    /// After the handler exits: how long stdout/stderr may stay open (held by a
    /// background child) before the group is killed.
    pub exit_drain: Duration,
}

impl OneshotProcess {
    pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(2);
    pub const DEFAULT_EXIT_DRAIN: Duration = Duration::from_millis(250);

    /// A runtime for `spec` with the default grace and drain periods.
    pub fn new(spec: ProcessSpec) -> Self {
        OneshotProcess {
            spec,
            kill_grace: Self::DEFAULT_KILL_GRACE,
            exit_drain: Self::DEFAULT_EXIT_DRAIN,
        }
    }

    /// Runs one invocation; returns the outcome and (spawn µs, handler µs).
    async fn run(
        &self,
        inv: &Invocation,
        logs: &Arc<dyn LogSink>,
        started: Instant,
    ) -> (Result<serde_json::Value, HandlerError>, u64, u64) {
        let spec = &self.spec;
        let shown = spec.display_command();
        let who = format!("handler `{shown}` for function `{}`", inv.function);
        let by_timeout = started + spec.timeout;
        let (deadline, by_deadline) = if inv.deadline < by_timeout {
            (inv.deadline, true)
        } else {
            (by_timeout, false)
        };
        if deadline <= started {
            let msg = format!("{who} was not started: the invocation deadline had already passed");
            return (
                Err(HandlerError::new(
                    ErrorKind::TimedOut {
                        after: Duration::ZERO,
                    },
                    msg,
                )),
                0,
                0,
            );
        }

        let ctx = CallContext {
            run_id: &inv.run_id,
            step: &inv.step,
            attempt_id: &inv.attempt_id,
            request_id: &inv.request_id,
            function: &inv.function,
            deadline_ms: sluice_core::time::now_ms()
                + deadline
                    .saturating_duration_since(Instant::now())
                    .as_millis() as i64,
        };
        let mut env = handler_env(&spec.env, |name| std::env::var(name).ok(), &ctx);
        // Kept until the call returns: reports to the URL reach `logs` until then.
        let progress = ProgressHub::global().map(|hub| hub.register(logs.clone()));
        if let Some(registration) = &progress {
            env.insert(PROGRESS_URL_VAR.to_string(), registration.url.clone());
        }
        let Some(program) = spec.command.first() else {
            let reason = "no command is configured".to_string();
            return (
                Err(HandlerError::new(
                    ErrorKind::SpawnFailed {
                        reason: reason.clone(),
                    },
                    format!("{who}: {reason}"),
                )),
                0,
                0,
            );
        };
        let mut cmd = Command::new(resolve_program(program, &spec.workdir));
        cmd.args(&spec.command[1..])
            .env_clear()
            .envs(&env)
            .current_dir(&spec.workdir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let limits = ResourceLimits {
            memory_bytes: spec.memory_limit_bytes,
            cpus: None,
        };
        let cgroup = limits::apply(&mut cmd, limits, &inv.function);

        let spawn_start = Instant::now();
        let spawned = cmd.spawn();
        let spawned_at = Instant::now();
        let spawn_us = micros(spawned_at - spawn_start);
        let mut child = match spawned {
            Ok(child) => child,
            Err(err) => {
                let reason = spawn_failure_reason(program, &spec.workdir, &env["PATH"], &err);
                let msg = format!(
                    "{who} could not be started in `{}`: {reason}",
                    spec.workdir.display()
                );
                return (
                    Err(HandlerError::new(ErrorKind::SpawnFailed { reason }, msg)),
                    spawn_us,
                    0,
                );
            }
        };
        // Declared after `child`, so on cancellation it drops (and kills) first.
        let mut group = ProcessGroup::new(child.id().unwrap_or(0));
        debug!(pid = child.id(), function = %inv.function, "handler spawned");

        let mut payload = serde_json::to_vec(&inv.payload).unwrap_or_else(|_| b"null".to_vec());
        payload.push(b'\n');
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let mut stdout_buf = Vec::new();
        let mut tail = VecDeque::new();
        let (ending, handler_us) = {
            let mut sup = Supervised::new(
                child.wait(),
                stdin.map(|s| write_stdin(s, payload)),
                stdout.map(|s| read_bounded(s, spec.max_output_bytes, &mut stdout_buf)),
                stderr.map(|s| pump_stderr(s, &**logs, &inv.request_id, &mut tail)),
            );
            let ending = self
                .supervise(&mut sup, &mut group, deadline, by_deadline, started)
                .await;
            (
                ending,
                micros(sup.exited_at.unwrap_or_else(Instant::now) - spawned_at),
            )
        };
        debug!(function = %inv.function, ?ending, handler_us, "handler finished");
        drop(cgroup);
        let ctx = Context {
            command: &shown,
            function: &inv.function,
            max_output_bytes: spec.max_output_bytes,
        };
        (
            classify(&ctx, ending, &stdout_buf, &tail),
            spawn_us,
            handler_us,
        )
    }

    /// Runs the process to its end: exit, overflow or timeout (TERM, grace, KILL);
    /// then reaps it, drains its pipes and kills whatever is left of its group.
    async fn supervise(
        &self,
        sup: &mut Supervised<'_>,
        group: &mut ProcessGroup,
        deadline: Instant,
        by_deadline: bool,
        started: Instant,
    ) -> Ending {
        let mut ending = None;
        let finished = sup
            .run_until(deadline, |s| s.exited() || s.overflowed)
            .await;
        if sup.overflowed {
            group.signal(libc::SIGKILL);
        } else if !finished {
            ending = Some(Ending::TimedOut {
                after: started.elapsed(),
                by_deadline,
            });
            group.signal(libc::SIGTERM);
            sup.run_until(Instant::now() + self.kill_grace, Supervised::exited)
                .await;
            group.signal(libc::SIGKILL);
        }
        if !sup.exited() {
            sup.run_until(Instant::now() + REAP_BOUND, Supervised::exited)
                .await;
        }
        // A background child may still hold stdout/stderr open after the leader exited.
        if !sup
            .run_until(Instant::now() + self.exit_drain, Supervised::pipes_closed)
            .await
        {
            group.signal(libc::SIGKILL);
            if !sup
                .run_until(Instant::now() + self.exit_drain, Supervised::pipes_closed)
                .await
            {
                warn!("handler pipes are held open by a process outside its group; not waiting for them");
            }
        }
        // One-shot means one-shot: nothing the handler started outlives the call.
        group.kill_and_disarm();
        ending.unwrap_or_else(|| match sup.status.take() {
            _ if sup.overflowed => Ending::TooLarge,
            Some(Ok(status)) => Ending::Exited(status),
            Some(Err(err)) => Ending::Lost(format!("waiting for the process failed: {err}")),
            None => Ending::Lost("the process did not exit after SIGKILL".to_string()),
        })
    }
}

#[async_trait]
impl HandlerRuntime for OneshotProcess {
    async fn invoke(&self, invocation: Invocation, logs: Arc<dyn LogSink>) -> InvocationResult {
        let started = Instant::now();
        let (outcome, spawn_us, handler_us) = self.run(&invocation, &logs, started).await;
        let timing = Timing {
            spawn_us,
            handler_us,
            total_us: micros(started.elapsed()),
            cold_start: true,
            init_us: 0,
        };
        match outcome {
            Ok(output) => InvocationResult::Succeeded { output, timing },
            Err(error) => InvocationResult::Failed { error, timing },
        }
    }
}

/// A relative path with a slash (`./handler.sh`, `bin/run`) means "in the workdir";
/// resolve it ourselves since `Command` leaves that case platform-specific.
fn resolve_program(program: &str, workdir: &Path) -> PathBuf {
    let path = Path::new(program);
    if program.contains('/') && path.is_relative() {
        workdir.join(path)
    } else {
        path.to_path_buf()
    }
}

/// Why a spawn failed, in terms of the user's configuration.
pub(crate) fn spawn_failure_reason(
    program: &str,
    workdir: &Path,
    path_var: &str,
    err: &std::io::Error,
) -> String {
    if !workdir.is_dir() {
        return format!(
            "working directory `{}` does not exist or is not a directory",
            workdir.display()
        );
    }
    match err.kind() {
        std::io::ErrorKind::NotFound if program.contains('/') => {
            if resolve_program(program, workdir).exists() {
                format!("`{program}` exists but its interpreter (the #! line) was not found")
            } else {
                format!("program `{program}` does not exist")
            }
        }
        std::io::ErrorKind::NotFound => {
            format!("program `{program}` was not found on PATH ({path_var})")
        }
        std::io::ErrorKind::PermissionDenied => {
            format!("program `{program}` is not executable (permission denied)")
        }
        _ => format!("spawning `{program}` failed: {err}"),
    }
}

pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
