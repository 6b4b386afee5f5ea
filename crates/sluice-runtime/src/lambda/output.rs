//! A warm process's stdout and stderr: pumped line by line to the invocation in
//! flight, with a way to *catch up* before that invocation is finished.
//!
//! The handler writes its last log lines and then calls `/response`; both race
//! to Sluice on different channels. "Logs before status" needs every line
//! written before the answer to land on the attempt, so before an answer is
//! accepted the API asks each [`OutputCursor`] how many bytes sit unread in
//! the pipe (`FIONREAD`) and waits (bounded) until the pump has consumed them.
//! Anything written before the HTTP request was sent is in the pipe by then.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::link::{LineVerdict, Link};
use crate::group::ProcessGroup;
use crate::logs::Stream;
use crate::pipes::{LineSplitter, MAX_LOG_LINE_BYTES};

/// Longest wait for the pumps to catch up with an answer.
const CATCH_UP_BOUND: Duration = Duration::from_millis(200);

/// How far the pump of one pipe has read.
pub(crate) struct OutputCursor {
    /// A duplicate of the pipe's read end, only for `FIONREAD`.
    fd: OwnedFd,
    consumed: AtomicU64,
    finished: AtomicBool,
    progressed: Notify,
}

impl OutputCursor {
    fn unread_bytes(&self) -> u64 {
        let mut unread: libc::c_int = 0;
        // SAFETY: FIONREAD writes one c_int to the pointer we pass.
        let rc = unsafe { libc::ioctl(self.fd.as_raw_fd(), libc::FIONREAD, &mut unread) };
        if rc == 0 {
            unread.max(0) as u64
        } else {
            0
        }
    }

    /// Waits until everything in the pipe now has been read and routed.
    pub(crate) async fn catch_up(&self) {
        let unread = self.unread_bytes();
        if unread == 0 {
            return;
        }
        let target = self.consumed.load(Ordering::Acquire) + unread;
        let wait = async {
            loop {
                let notified = self.progressed.notified();
                if self.consumed.load(Ordering::Acquire) >= target
                    || self.finished.load(Ordering::Acquire)
                {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(CATCH_UP_BOUND, wait).await;
    }
}

/// Catches up with every cursor (stdout and stderr).
pub(crate) async fn catch_up(cursors: &[Arc<OutputCursor>]) {
    for cursor in cursors {
        cursor.catch_up().await;
    }
}

/// Starts pumping `reader` into `link`; kills process group `pid` if it floods.
pub(crate) fn pump<R>(
    mut reader: R,
    stream: Stream,
    link: Arc<Link>,
    pid: u32,
) -> std::io::Result<(Arc<OutputCursor>, JoinHandle<()>)>
where
    R: AsyncRead + AsFd + Unpin + Send + 'static,
{
    let cursor = Arc::new(OutputCursor {
        fd: reader.as_fd().try_clone_to_owned()?,
        consumed: AtomicU64::new(0),
        finished: AtomicBool::new(false),
        progressed: Notify::new(),
    });
    let progress = cursor.clone();
    let task = tokio::spawn(async move {
        let mut splitter = LineSplitter::new(MAX_LOG_LINE_BYTES);
        let mut chunk = vec![0u8; 64 * 1024];
        let mut flooded = false;
        let mut emit = |text: String| {
            if !flooded && link.line(stream, text) == LineVerdict::KillFlooder {
                flooded = true;
                ProcessGroup::new(pid).signal(libc::SIGKILL);
            }
        };
        loop {
            match reader.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    splitter.feed(&chunk[..n], &mut emit);
                    progress.consumed.fetch_add(n as u64, Ordering::Release);
                    progress.progressed.notify_waiters();
                }
            }
        }
        splitter.finish(&mut emit);
        progress.finished.store(true, Ordering::Release);
        progress.progressed.notify_waiters();
    });
    Ok((cursor, task))
}
