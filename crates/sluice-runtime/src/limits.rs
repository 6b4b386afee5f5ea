//! Resource limits on handler processes: memory (always, one way or another) and
//! CPU (only where cgroups allow).
//!
//! A memory limit in the project file must mean something on every host, so
//! there are two mechanisms, chosen once per Sluice process and logged once:
//!
//! * **cgroups v2**, when Sluice's own cgroup (from `/proc/self/cgroup`, line
//!   `0::/path`) offers the `memory` controller to children and is writable: a
//!   child cgroup per handler process with `memory.max` (and `memory.swap.max`
//!   0, and `cpu.max` for a CPU limit); the process joins it before `exec`. The
//!   kernel then OOM-kills the handler at its real resident size.
//! * **`RLIMIT_AS`** otherwise (cgroups v1 hosts, unprivileged containers): set
//!   in `pre_exec`. It caps *virtual* address space, which is stricter than
//!   resident memory: runtimes that reserve large arenas or many thread stacks
//!   may need a higher limit than their real usage. Allocations over the limit
//!   fail (Python raises `MemoryError`, Rust aborts). CPU limits are not
//!   available this way and are ignored with a warning.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use tokio::process::Command;
use tracing::{info, warn};

/// Limits for one handler process.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ResourceLimits {
    /// Memory limit in bytes.
    pub memory_bytes: Option<u64>,
    /// CPU limit in cores (e.g. 0.5); cgroups v2 only.
    pub cpus: Option<f64>,
}

/// How limits are enforced on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enforcement {
    /// Child cgroups under this directory.
    CgroupV2 { parent: PathBuf },
    /// `setrlimit(RLIMIT_AS)`; `why` says why cgroups v2 is not used.
    RlimitAs { why: String },
}

/// The enforcement mechanism of this host, detected (and logged) once.
pub fn enforcement() -> &'static Enforcement {
    static DETECTED: OnceLock<Enforcement> = OnceLock::new();
    DETECTED.get_or_init(|| {
        let found = detect_cgroup_v2();
        match &found {
            Enforcement::CgroupV2 { parent } => info!(
                cgroup = %parent.display(),
                "handler memory/CPU limits are enforced with cgroups v2 (memory.max, cpu.max)"
            ),
            Enforcement::RlimitAs { why } => info!(
                reason = %why,
                "handler memory limits are enforced with RLIMIT_AS (virtual address space), \
                 because cgroups v2 is not usable; CPU limits are not enforced"
            ),
        }
        found
    })
}

fn detect_cgroup_v2() -> Enforcement {
    let rlimit = |why: String| Enforcement::RlimitAs { why };
    let Ok(own) = std::fs::read_to_string("/proc/self/cgroup") else {
        return rlimit("/proc/self/cgroup is not readable".into());
    };
    let Some(path) = own.lines().find_map(|l| l.strip_prefix("0::")) else {
        return rlimit("no cgroup v2 hierarchy in /proc/self/cgroup".into());
    };
    let parent = Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    let subtree =
        std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
    if !subtree.split_whitespace().any(|c| c == "memory") {
        return rlimit(format!(
            "the memory controller is not enabled for children of {}",
            parent.display()
        ));
    }
    let probe = parent.join(format!("sluice-probe-{}", std::process::id()));
    match std::fs::create_dir(&probe) {
        Ok(()) => {
            let _ = std::fs::remove_dir(&probe);
            Enforcement::CgroupV2 { parent }
        }
        Err(err) => rlimit(format!("{} is not writable: {err}", parent.display())),
    }
}

/// A handler's cgroup, removed when dropped (after its processes are gone).
#[derive(Debug)]
pub(crate) struct CgroupGuard(PathBuf);

impl CgroupGuard {
    /// SIGKILLs every process still in the cgroup (including children that left
    /// the process group) via `cgroup.kill`, where the kernel supports it.
    pub(crate) fn kill_all(&self) {
        let _ = std::fs::write(self.0.join("cgroup.kill"), "1");
    }
}

impl Drop for CgroupGuard {
    fn drop(&mut self) {
        self.kill_all();
        let dir = std::mem::take(&mut self.0);
        // rmdir fails until the killed processes are reaped: retry off the
        // async threads when there are any.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(move || remove_cgroup(&dir))),
            Err(_) => remove_cgroup(&dir),
        }
    }
}

fn remove_cgroup(dir: &Path) {
    for _ in 0..250 {
        if std::fs::remove_dir(dir).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    warn!(cgroup = %dir.display(), "handler cgroup could not be removed");
}

/// Arranges for the process spawned by `cmd` to run under `limits`. Returns the
/// cgroup guard to keep for the process's lifetime (cgroups v2 only).
pub(crate) fn apply(cmd: &mut Command, limits: ResourceLimits, label: &str) -> Option<CgroupGuard> {
    if limits.memory_bytes.is_none() && limits.cpus.is_none() {
        return None;
    }
    match enforcement() {
        Enforcement::CgroupV2 { parent } => match create_cgroup(parent, limits, label) {
            Ok(guard) => {
                join_cgroup_before_exec(cmd, &guard.0);
                return Some(guard);
            }
            Err(err) => warn!(%err, "creating a handler cgroup failed; falling back to RLIMIT_AS"),
        },
        Enforcement::RlimitAs { .. } => {
            if limits.cpus.is_some() {
                warn!(
                    label,
                    "CPU limit ignored: cgroups v2 is not usable on this host"
                );
            }
        }
    }
    if let Some(bytes) = limits.memory_bytes {
        set_rlimit_as_before_exec(cmd, bytes);
    }
    None
}

fn create_cgroup(
    parent: &Path,
    limits: ResourceLimits,
    label: &str,
) -> std::io::Result<CgroupGuard> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let safe: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = parent.join(format!("sluice-{}-{safe}-{n}", std::process::id()));
    std::fs::create_dir(&dir)?;
    let guard = CgroupGuard(dir.clone());
    if let Some(bytes) = limits.memory_bytes {
        std::fs::write(dir.join("memory.max"), bytes.to_string())?;
        let _ = std::fs::write(dir.join("memory.swap.max"), "0");
    }
    if let Some(cpus) = limits.cpus {
        const PERIOD: u64 = 100_000;
        let quota = ((cpus * PERIOD as f64) as u64).max(1000);
        if let Err(err) = std::fs::write(dir.join("cpu.max"), format!("{quota} {PERIOD}")) {
            warn!(%err, "CPU limit not applied (cpu controller unavailable)");
        }
    }
    Ok(guard)
}

fn join_cgroup_before_exec(cmd: &mut Command, dir: &Path) {
    let Ok(procs) = CString::new(
        dir.join("cgroup.procs")
            .into_os_string()
            .into_encoded_bytes(),
    ) else {
        return;
    };
    // SAFETY: the closure only makes async-signal-safe syscalls (open, write,
    // close) on memory allocated before fork.
    unsafe {
        cmd.pre_exec(move || {
            let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let rc = libc::write(fd, b"0\n".as_ptr().cast(), 2);
            libc::close(fd);
            if rc < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn set_rlimit_as_before_exec(cmd: &mut Command, bytes: u64) {
    // SAFETY: setrlimit is async-signal-safe and uses only stack memory.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
