//! Why a handler call failed, in a typed form the engine can decide on (retry a
//! timeout, never retry invalid output) and a sentence a person can act on.
//!
//! The `kind` is for code; the `message` is for the user reading a failed step and
//! always says what happened and where (which command, which directory, the last
//! stderr lines), so nobody needs to open the server log to understand it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The category of a handler failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ErrorKind {
    /// The handler exited with a non-zero status.
    #[error("exited with status {code}")]
    NonZeroExit { code: i32 },
    /// The handler was killed by a signal it did not get from Sluice's timeout.
    #[error("killed by signal {signal}")]
    Signalled { signal: i32 },
    /// The handler ran past its timeout or the invocation deadline and was killed.
    #[error("timed out after {after:?}")]
    TimedOut { after: Duration },
    /// The handler exited 0 but its stdout is not a single JSON document.
    #[error("invalid output: {reason}")]
    InvalidOutput { reason: String, excerpt: String },
    /// The handler wrote more than the allowed bytes to stdout and was killed.
    #[error("stdout exceeded {limit} bytes")]
    OutputTooLarge { limit: usize },
    /// The handler process could not be started at all.
    #[error("could not start: {reason}")]
    SpawnFailed { reason: String },
    /// The handler reported an error through the Lambda Runtime API (`/error` or
    /// `/init/error`); the error message is the [`HandlerError::message`].
    #[error("handler reported {error_type}")]
    HandlerReported {
        error_type: String,
        stack_trace: Vec<String>,
    },
    /// The handler broke the Lambda Runtime API protocol (asked for the next event
    /// without answering the current one, flooded its logs, ...).
    #[error("protocol violation: {reason}")]
    ProtocolViolation { reason: String },
    /// The event was larger than the function's payload limit; it was not delivered.
    #[error("payload exceeded {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The handler process exited (or was killed) while an invocation was in flight.
    #[error("process exited mid-invocation: {reason}")]
    ProcessExited { reason: String },
}

impl ErrorKind {
    /// A stable machine-readable name: `non_zero_exit`, `timed_out`, ...
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::NonZeroExit { .. } => "non_zero_exit",
            ErrorKind::Signalled { .. } => "signalled",
            ErrorKind::TimedOut { .. } => "timed_out",
            ErrorKind::InvalidOutput { .. } => "invalid_output",
            ErrorKind::OutputTooLarge { .. } => "output_too_large",
            ErrorKind::SpawnFailed { .. } => "spawn_failed",
            ErrorKind::HandlerReported { .. } => "handler_reported",
            ErrorKind::ProtocolViolation { .. } => "protocol_violation",
            ErrorKind::PayloadTooLarge { .. } => "payload_too_large",
            ErrorKind::ProcessExited { .. } => "process_exited",
        }
    }
}

/// A failed handler call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct HandlerError {
    pub kind: ErrorKind,
    /// Human readable: what and where, e.g. "handler `python3 handler.py` exited
    /// with status 2; last stderr lines: ...".
    pub message: String,
    /// The exit status when the process exited on its own (`Some(0)` for invalid output).
    pub exit_code: Option<i32>,
}

impl HandlerError {
    /// An error of `kind` with `message` and no exit code.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        HandlerError {
            kind,
            message: message.into(),
            exit_code: None,
        }
    }

    /// Sets the exit code.
    pub fn with_exit_code(mut self, code: i32) -> Self {
        self.exit_code = Some(code);
        self
    }
}

/// A conventional name for common signals, for messages ("SIGKILL").
pub fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialize_with_a_stable_tag() {
        let err = HandlerError::new(ErrorKind::NonZeroExit { code: 2 }, "boom").with_exit_code(2);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["kind"]["type"], "non_zero_exit");
        assert_eq!(json["kind"]["code"], 2);
        assert_eq!(err.to_string(), "boom");
        assert_eq!(err.kind.code(), "non_zero_exit");
        let back: HandlerError = serde_json::from_value(json).unwrap();
        assert_eq!(back, err);
    }

    #[test]
    fn signal_names() {
        assert_eq!(signal_name(9), Some("SIGKILL"));
        assert_eq!(signal_name(1000), None);
    }
}
