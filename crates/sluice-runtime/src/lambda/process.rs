//! One warm Lambda process: spawning it with its own Runtime API listener and
//! Lambda environment, pumping its output, watching it exit, and stopping it.
//!
//! Each process gets its **own** loopback listener (127.0.0.1:0) rather than a
//! shared server keyed by function: the connection then identifies the process,
//! so `/next` hands out exactly the invocation routed to that process, a crash
//! fails exactly its in-flight invocation, and one process can neither answer
//! nor steal another's requests. A listener costs one socket and one task.
//!
//! Everything the process started dies with it: it leads its own process group
//! (killed on exit, on timeout and on drop, taking forked children along), and
//! its tasks are aborted when the [`Worker`] drops.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::process::Command;
use tokio::task::JoinHandle;
use tracing::debug;

use super::api::{router, ApiState, PROGRESS_PATH};
use super::link::Link;
use super::output::pump;
use super::LambdaSpec;
use crate::error::{signal_name, ErrorKind, HandlerError};
use crate::group::ProcessGroup;
use crate::limits::{self, CgroupGuard, ResourceLimits};
use crate::logs::Stream;
use crate::progress::PROGRESS_URL_VAR;
use crate::spec::base_env;

/// After the process exits, how long its pipes may take to deliver the last lines.
const EXIT_DRAIN: Duration = Duration::from_millis(200);

/// Aborts a task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A running Lambda process and its Runtime API listener.
pub(crate) struct Worker {
    pub link: Arc<Link>,
    pub pid: u32,
    pub spawned_at: Instant,
    group: ProcessGroup,
    _tasks: Vec<AbortOnDrop>,
    _cgroup: Option<CgroupGuard>,
}

impl Worker {
    /// Starts a process for `spec`; returns once it is spawned (not initialised).
    pub(crate) async fn spawn(spec: &LambdaSpec) -> Result<Worker, HandlerError> {
        let who = format!(
            "lambda handler `{}` for function `{}`",
            spec.display_command(),
            spec.function_name
        );
        let spawn_failed = |reason: String| {
            let msg = format!(
                "{who} could not be started in `{}`: {reason}",
                spec.workdir.display()
            );
            HandlerError::new(ErrorKind::SpawnFailed { reason }, msg)
        };
        let Some(program) = spec.command.first() else {
            return Err(spawn_failed("no command is configured".into()));
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| spawn_failed(format!("binding the Runtime API listener failed: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| spawn_failed(format!("Runtime API listener has no address: {e}")))?;
        let link = Arc::new(Link::new(spec.max_log_bytes_per_invocation));
        let api = Arc::new(ApiState {
            link: link.clone(),
            function_arn: spec.function_arn(),
            max_payload_bytes: spec.max_payload_bytes,
            outputs: OnceLock::new(),
        });
        let served = api.clone();
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router(served)).await {
                debug!(%err, "lambda Runtime API listener stopped");
            }
        });

        let env = lambda_env(spec, &addr.to_string(), |n| std::env::var(n).ok());
        let mut cmd = Command::new(resolve_program(program, &spec.workdir));
        cmd.args(&spec.command[1..])
            .env_clear()
            .envs(&env)
            .current_dir(&spec.workdir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let limits = ResourceLimits {
            memory_bytes: spec.memory_mb.map(|mb| mb * 1024 * 1024),
            cpus: spec.cpus,
        };
        let cgroup = limits::apply(&mut cmd, limits, &spec.function_name);
        let spawned_at = Instant::now();
        let mut child = cmd.spawn().map_err(|e| {
            server.abort();
            spawn_failed(crate::oneshot::spawn_failure_reason(
                program,
                &spec.workdir,
                &env["PATH"],
                &e,
            ))
        })?;
        let pid = child.id().unwrap_or(0);
        debug!(pid, function = %spec.function_name, %addr, "lambda process spawned");
        let group = ProcessGroup::new(pid);

        let mut pumps = Vec::new();
        let mut cursors = Vec::new();
        let started = [
            child
                .stdout
                .take()
                .map(|s| pump(s, Stream::Stdout, link.clone(), pid)),
            child
                .stderr
                .take()
                .map(|s| pump(s, Stream::Stderr, link.clone(), pid)),
        ];
        for pumped in started.into_iter().flatten() {
            let (cursor, task) =
                pumped.map_err(|e| spawn_failed(format!("watching its output failed: {e}")))?;
            cursors.push(cursor);
            pumps.push(AbortOnDrop(task));
        }
        let _ = api.outputs.set(cursors);
        let watch_link = link.clone();
        let watcher = tokio::spawn(async move {
            let status = child.wait().await;
            let description = match &status {
                Ok(status) => describe_exit(status),
                Err(err) => format!("waiting for it failed: {err}"),
            };
            // Reclaim anything it forked, so the pipes close and nothing leaks.
            ProcessGroup::new(pid).signal(libc::SIGKILL);
            let mut pumps = pumps;
            let drained = async {
                for pump in &mut pumps {
                    let _ = (&mut pump.0).await;
                }
            };
            let _ = tokio::time::timeout(EXIT_DRAIN, drained).await;
            watch_link.exited(description);
        });
        Ok(Worker {
            link,
            pid,
            spawned_at,
            group,
            _tasks: vec![AbortOnDrop(server), AbortOnDrop(watcher)],
            _cgroup: cgroup,
        })
    }

    /// SIGKILLs the process group; the exit watcher then fails any invocation.
    pub(crate) fn kill(&self) {
        self.group.signal(libc::SIGKILL);
    }

    pub(crate) fn is_dead(&self) -> bool {
        self.link.is_dead()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        debug!(pid = self.pid, "stopping lambda process");
        if self.link.is_dead() {
            // The exit watcher already killed the group when the leader exited.
            self.group.disarm();
        } else {
            self.group.kill_and_disarm();
        }
        self.link.shut_down();
        if let Some(cgroup) = &self._cgroup {
            cgroup.kill_all();
        }
    }
}

/// "exited with status 3", "was killed by signal 9 (SIGKILL)".
fn describe_exit(status: &std::process::ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => match signal_name(sig) {
            Some(name) => format!("was killed by signal {sig} ({name})"),
            None => format!("was killed by signal {sig}"),
        },
        _ => "ended".to_string(),
    }
}

/// The environment of a Lambda process: the declared env (never Sluice's own),
/// then the variables AWS's runtime clients read, which always win.
pub(crate) fn lambda_env(
    spec: &LambdaSpec,
    runtime_api: &str,
    inherited: impl Fn(&str) -> Option<String>,
) -> BTreeMap<String, String> {
    let mut env = base_env(&spec.env, inherited);
    let memory = spec
        .memory_mb
        .unwrap_or(LambdaSpec::REPORTED_MEMORY_MB_WHEN_UNLIMITED);
    let name = &spec.function_name;
    let vars = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory.to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", format!("sluice/{name}")),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
        ("AWS_REGION", spec.region.clone()),
        ("AWS_DEFAULT_REGION", spec.region.clone()),
        ("AWS_EXECUTION_ENV", "sluice".to_string()),
        ("LAMBDA_TASK_ROOT", spec.workdir.display().to_string()),
        ("_HANDLER", spec.handler.clone()),
        ("SLUICE_FUNCTION", name.clone()),
        (
            PROGRESS_URL_VAR,
            format!("http://{runtime_api}{PROGRESS_PATH}"),
        ),
    ];
    env.extend(vars.into_iter().map(|(k, v)| (k.to_string(), v)));
    env
}

fn resolve_program(program: &str, workdir: &std::path::Path) -> std::path::PathBuf {
    let path = std::path::Path::new(program);
    if program.contains('/') && path.is_relative() {
        workdir.join(path)
    } else {
        path.to_path_buf()
    }
}

/// The error for an invocation the process did not answer because it exited.
pub(crate) fn exited_error(who: &str, description: &str, tail: &str) -> HandlerError {
    HandlerError::new(
        ErrorKind::ProcessExited {
            reason: description.to_string(),
        },
        format!("{who} {description} before answering the invocation{tail}"),
    )
}
