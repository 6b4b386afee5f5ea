//! A guard over a handler's process group that kills the whole group when dropped.
//!
//! Handlers are spawned as leaders of their own process group so that one signal
//! reaches everything they started (`sh -c 'sleep 1000 & ...'`, worker pools).
//! Killing only the direct child would leak grandchildren that keep running and
//! keep our pipes open. The guard makes cancellation safe: if the `invoke` future
//! is dropped at any await point, `Drop` sends SIGKILL to the group.
//!
//! Caveat: once the group leader has been reaped and every member has exited, its
//! id could in principle be reused by an unrelated new group before our final
//! `killpg`. The window is a few microseconds and needs the pid space to wrap, so
//! we accept it rather than hand-roll `waitid(WNOWAIT)` around tokio's reaper.

use tracing::debug;

/// The process group of one handler invocation.
#[derive(Debug)]
pub(crate) struct ProcessGroup {
    pgid: libc::pid_t,
    armed: bool,
}

impl ProcessGroup {
    /// Guards the group led by `leader_pid` (spawned with `process_group(0)`).
    pub(crate) fn new(leader_pid: u32) -> Self {
        ProcessGroup {
            pgid: leader_pid as libc::pid_t,
            armed: leader_pid > 1,
        }
    }

    /// Sends `signal` to every process in the group. A group that no longer exists
    /// is not an error.
    pub(crate) fn signal(&self, signal: libc::c_int) {
        if !self.armed {
            return;
        }
        // SAFETY: killpg has no memory-safety preconditions; pgid > 1 is ensured
        // by `new`, so this can never address our own group or every process.
        let rc = unsafe { libc::killpg(self.pgid, signal) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::ESRCH) {
                debug!(pgid = self.pgid, signal, %err, "killpg failed");
            }
        }
    }

    /// Stops guarding the group without signalling it (it is known to be gone,
    /// so its id may already belong to someone else).
    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }

    /// SIGKILLs whatever is left of the group and stops guarding it.
    pub(crate) fn kill_and_disarm(&mut self) {
        self.signal(libc::SIGKILL);
        self.armed = false;
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if self.armed {
            debug!(
                pgid = self.pgid,
                "invocation dropped; killing handler process group"
            );
            self.kill_and_disarm();
        }
    }
}
