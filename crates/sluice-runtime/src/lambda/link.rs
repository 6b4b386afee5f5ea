//! The state one warm process shares with Sluice: the invocation it is working on
//! (if any), where its log lines go, and how its invocation ends.
//!
//! Four parties touch it: `invoke` delivers an invocation and awaits its
//! [`Answer`]; the Runtime API handlers hand the event out on `GET /next` and
//! finish it on `/response` or `/error`; the stdout/stderr pumps route lines to
//! the current invocation's sink; the exit watcher finishes it when the process
//! dies. Whoever finishes first wins: the answer is a `oneshot` that can be sent
//! once, so a second `/response`, a late exit or a timeout cannot overwrite it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use axum::body::Bytes;
use tokio::sync::{oneshot, Notify};
use tracing::{debug, warn};

use super::CallerContext;
use crate::logs::{HandlerLogLine, LogSink, Stream};
use crate::pipes::TAIL_LINES;
use crate::progress::{parse_progress_line, ProgressReport};

/// An error reported through `/error` or `/init/error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReportedError {
    pub error_type: String,
    pub message: String,
    pub stack_trace: Vec<String>,
}

/// How the process answered (or failed to answer) an invocation.
#[derive(Debug)]
pub(crate) enum Reply {
    Response(Bytes),
    Error(ReportedError),
    InitError(ReportedError),
    ResponseTooLarge { limit: usize },
    Protocol(String),
    Exited(String),
    LogFlood { limit: usize },
}

/// A reply with when the event was handed out (`None`: never) and answered.
#[derive(Debug)]
pub(crate) struct Answer {
    pub reply: Reply,
    pub handed_out_at: Option<Instant>,
    pub answered_at: Instant,
}

/// An invocation given to a process.
pub(crate) struct Delivery {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_ms: i64,
    pub trace_id: String,
    pub caller: CallerContext,
    pub sink: Arc<dyn LogSink>,
    pub answer: oneshot::Sender<Answer>,
}

/// The event as `GET /next` returns it.
pub(crate) struct NextEvent {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_ms: i64,
    pub trace_id: String,
    pub caller: CallerContext,
}

/// What `/response` or `/error` for `request_id` amounts to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Finish {
    Accepted,
    AlreadyAnswered,
    Unknown,
}

struct Current {
    delivery: Delivery,
    handed_out_at: Option<Instant>,
    log_bytes: usize,
}

#[derive(Default)]
struct State {
    current: Option<Current>,
    /// Recently answered request ids, to tell "twice" from "unknown".
    answered: VecDeque<String>,
    tail: VecDeque<String>,
    init_error: Option<ReportedError>,
    /// Output bytes since the last invocation ended (an idle process may log
    /// too, but not without bound).
    idle_log_bytes: usize,
    dead: bool,
}

/// What a pump should do after a line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LineVerdict {
    Continue,
    KillFlooder,
}

const ANSWERED_KEPT: usize = 64;

/// The shared state of one warm process.
pub(crate) struct Link {
    state: Mutex<State>,
    wake_next: Notify,
    /// When the process first called `GET /next` (end of its initialisation).
    pub first_next_at: OnceLock<Instant>,
    pub max_log_bytes: usize,
}

impl Link {
    pub(crate) fn new(max_log_bytes: usize) -> Self {
        Link {
            state: Mutex::default(),
            wake_next: Notify::new(),
            first_next_at: OnceLock::new(),
            max_log_bytes,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Gives the process `delivery`; its `GET /next` returns it.
    pub(crate) fn deliver(&self, delivery: Delivery) {
        let mut state = self.lock();
        state.idle_log_bytes = 0;
        state.current = Some(Current {
            delivery,
            handed_out_at: None,
            log_bytes: 0,
        });
        drop(state);
        self.wake_next.notify_one();
    }

    /// Forgets the current invocation (timed out or cancelled by the caller).
    pub(crate) fn abandon(&self) {
        let mut state = self.lock();
        if let Some(current) = state.current.take() {
            remember(&mut state, current.delivery.request_id);
        }
    }

    pub(crate) fn is_dead(&self) -> bool {
        self.lock().dead
    }

    /// The last lines the process printed, for error messages.
    pub(crate) fn tail(&self) -> VecDeque<String> {
        self.lock().tail.clone()
    }

    /// Waits for an event to hand out (`None`: the process is being stopped).
    /// A second `/next` while an event is out fails that invocation.
    pub(crate) async fn next_event(&self) -> Option<NextEvent> {
        let _ = self.first_next_at.set(Instant::now());
        loop {
            let notified = self.wake_next.notified();
            {
                let mut state = self.lock();
                if state.dead {
                    return None;
                }
                let mut violation = None;
                if let Some(current) = &mut state.current {
                    if current.handed_out_at.is_none() {
                        current.handed_out_at = Some(Instant::now());
                        let d = &current.delivery;
                        return Some(NextEvent {
                            request_id: d.request_id.clone(),
                            payload: d.payload.clone(),
                            deadline_ms: d.deadline_ms,
                            trace_id: d.trace_id.clone(),
                            caller: d.caller.clone(),
                        });
                    }
                    violation = Some(format!(
                        "the handler asked for the next event (GET /next) without answering request {}",
                        current.delivery.request_id
                    ));
                }
                if let Some(reason) = violation {
                    finish_locked(&mut state, Reply::Protocol(reason));
                }
            }
            notified.await;
        }
    }

    /// Finishes invocation `request_id` with `reply` if it is the one handed out.
    pub(crate) fn finish(&self, request_id: &str, reply: Reply) -> Finish {
        let mut state = self.lock();
        let is_current = state
            .current
            .as_ref()
            .is_some_and(|c| c.delivery.request_id == request_id && c.handed_out_at.is_some());
        if is_current {
            finish_locked(&mut state, reply);
            Finish::Accepted
        } else if state.answered.iter().any(|id| id == request_id) {
            Finish::AlreadyAnswered
        } else {
            Finish::Unknown
        }
    }

    /// `/init/error`: remembered, and fails the invocation waiting for this process.
    pub(crate) fn init_failed(&self, error: ReportedError) {
        let mut state = self.lock();
        state.init_error = Some(error.clone());
        finish_locked(&mut state, Reply::InitError(error));
    }

    /// The process exited: fail the invocation in flight and refuse new ones.
    pub(crate) fn exited(&self, description: String) {
        let mut state = self.lock();
        state.dead = true;
        let reply = match state.init_error.clone() {
            Some(error) => Reply::InitError(error),
            None => Reply::Exited(description),
        };
        finish_locked(&mut state, reply);
        drop(state);
        self.wake_next.notify_waiters();
    }

    /// Stops serving: pending and future `GET /next` calls return.
    pub(crate) fn shut_down(&self) {
        self.lock().dead = true;
        self.wake_next.notify_waiters();
    }

    /// Routes one output line to the current invocation (or Sluice's debug log
    /// when idle), enforcing the per-invocation log budget.
    pub(crate) fn line(&self, stream: Stream, text: String) -> LineVerdict {
        let mut state = self.lock();
        let Some(current) = &mut state.current else {
            state.idle_log_bytes += text.len() + 1;
            if state.idle_log_bytes > self.max_log_bytes {
                warn!("an idle lambda process flooded its output; stopping it");
                // Dead from now on, so no invocation is handed to it while it is killed.
                state.dead = true;
                return LineVerdict::KillFlooder;
            }
            debug!(?stream, line = %text, "output from an idle lambda process");
            return LineVerdict::Continue;
        };
        let sink = current.delivery.sink.clone();
        if let Some(report) = parse_progress_line(&text) {
            drop(state);
            sink.progress(report);
            return LineVerdict::Continue;
        }
        current.log_bytes += text.len() + 1;
        if current.log_bytes > self.max_log_bytes {
            let limit = self.max_log_bytes;
            finish_locked(&mut state, Reply::LogFlood { limit });
            return LineVerdict::KillFlooder;
        }
        let request_id = Some(current.delivery.request_id.clone());
        if state.tail.len() == TAIL_LINES {
            state.tail.pop_front();
        }
        state.tail.push_back(text.clone());
        drop(state);
        sink.line(HandlerLogLine {
            at_ms: sluice_core::time::now_ms(),
            stream,
            request_id,
            text,
        });
        LineVerdict::Continue
    }

    /// A progress report posted over HTTP; `false` when no invocation is current.
    pub(crate) fn progress(&self, report: ProgressReport) -> bool {
        let sink = self
            .lock()
            .current
            .as_ref()
            .map(|c| c.delivery.sink.clone());
        match sink {
            Some(sink) => {
                sink.progress(report);
                true
            }
            None => false,
        }
    }
}

fn remember(state: &mut State, request_id: String) {
    if state.answered.len() == ANSWERED_KEPT {
        state.answered.pop_front();
    }
    state.answered.push_back(request_id);
}

fn finish_locked(state: &mut State, reply: Reply) {
    let Some(current) = state.current.take() else {
        return;
    };
    let Current {
        delivery,
        handed_out_at,
        ..
    } = current;
    remember(state, delivery.request_id);
    let _ = delivery.answer.send(Answer {
        reply,
        handed_out_at,
        answered_at: Instant::now(),
    });
}
