//! Drives a running handler's exit and its three pipes together, in one future,
//! until a condition holds or a time bound passes.
//!
//! Everything runs inside the caller's future (nothing is `tokio::spawn`ed), so
//! dropping `invoke` drops the pipe readers too and nothing outlives the call.
//! The supervisor in `oneshot.rs` composes `run_until` into phases: run, terminate
//! on timeout, reap, drain pipes.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::process::ExitStatus;
use std::task::{Context, Poll};
use std::time::Instant;

type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The in-flight parts of one handler process.
pub(crate) struct Supervised<'a> {
    wait: Option<Fut<'a, std::io::Result<ExitStatus>>>,
    stdin: Option<Fut<'a, ()>>,
    stdout: Option<Fut<'a, bool>>,
    stderr: Option<Fut<'a, ()>>,
    /// The exit status once the leader has been reaped.
    pub status: Option<std::io::Result<ExitStatus>>,
    /// When the exit was observed.
    pub exited_at: Option<Instant>,
    /// Stdout went over its limit (the reader stopped).
    pub overflowed: bool,
}

impl<'a> Supervised<'a> {
    pub(crate) fn new(
        wait: impl Future<Output = std::io::Result<ExitStatus>> + Send + 'a,
        stdin: Option<impl Future<Output = ()> + Send + 'a>,
        stdout: Option<impl Future<Output = bool> + Send + 'a>,
        stderr: Option<impl Future<Output = ()> + Send + 'a>,
    ) -> Self {
        Supervised {
            wait: Some(Box::pin(wait)),
            stdin: stdin.map(|f| Box::pin(f) as Fut<'a, ()>),
            stdout: stdout.map(|f| Box::pin(f) as Fut<'a, bool>),
            stderr: stderr.map(|f| Box::pin(f) as Fut<'a, ()>),
            status: None,
            exited_at: None,
            overflowed: false,
        }
    }

    /// The leader process has exited and been reaped.
    pub(crate) fn exited(&self) -> bool {
        self.status.is_some()
    }

    /// Stdout and stderr are both finished (EOF, error or overflow).
    pub(crate) fn pipes_closed(&self) -> bool {
        self.stdout.is_none() && self.stderr.is_none()
    }

    /// Drives everything until `done` holds (returns `true`) or `until` passes
    /// (returns whether `done` holds then).
    pub(crate) async fn run_until(&mut self, until: Instant, done: impl Fn(&Self) -> bool) -> bool {
        let mut timer = pin!(tokio::time::sleep_until(until.into()));
        poll_fn(|cx| {
            loop {
                if done(self) {
                    return Poll::Ready(true);
                }
                if self.poll_parts(cx).is_pending() {
                    break;
                }
            }
            match timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(done(self)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// Polls every unfinished part once; ready if at least one finished.
    fn poll_parts(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut progressed = false;
        if let Some(Poll::Ready(status)) = self.wait.as_mut().map(|f| f.as_mut().poll(cx)) {
            self.wait = None;
            self.status = Some(status);
            self.exited_at = Some(Instant::now());
            progressed = true;
        }
        if let Some(Poll::Ready(overflowed)) = self.stdout.as_mut().map(|f| f.as_mut().poll(cx)) {
            self.stdout = None;
            self.overflowed = overflowed;
            progressed = true;
        }
        for part in [&mut self.stdin, &mut self.stderr] {
            if let Some(Poll::Ready(())) = part.as_mut().map(|f| f.as_mut().poll(cx)) {
                *part = None;
                progressed = true;
            }
        }
        if progressed {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
