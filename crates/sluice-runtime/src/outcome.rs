//! Turns how a handler process ended (exit status, timeout, overflow) plus what it
//! printed into the call's result or a [`HandlerError`] with a useful message.
//!
//! Kept apart from the process plumbing so that the wording of every failure (the
//! part users actually read) is in one place and testable without processes.

use std::collections::VecDeque;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use serde_json::Value;

use crate::error::{signal_name, ErrorKind, HandlerError};

/// How many bytes of bad stdout are quoted in an `InvalidOutput` error.
pub const EXCERPT_BYTES: usize = 200;
const TAIL_LINE_CHARS: usize = 300;

/// How the handler process ended, as seen by the supervisor.
#[derive(Debug)]
pub(crate) enum Ending {
    Exited(ExitStatus),
    /// The exit status could not be collected (reaping failed).
    Lost(String),
    TimedOut {
        after: Duration,
        by_deadline: bool,
    },
    TooLarge,
}

/// What a message needs to say where the failure happened.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    pub command: &'a str,
    pub function: &'a str,
    pub max_output_bytes: usize,
}

/// The call's output, or why it failed.
pub(crate) fn classify(
    ctx: &Context<'_>,
    ending: Ending,
    stdout: &[u8],
    tail: &VecDeque<String>,
) -> Result<Value, HandlerError> {
    let who = format!("handler `{}` for function `{}`", ctx.command, ctx.function);
    match ending {
        Ending::TimedOut { after, by_deadline } => {
            let limit = if by_deadline {
                "the invocation deadline"
            } else {
                "the function timeout"
            };
            let msg = format!(
                "{who} timed out after {after:?} ({limit}) and was killed{}",
                tail_text(tail)
            );
            Err(HandlerError::new(ErrorKind::TimedOut { after }, msg))
        }
        Ending::TooLarge => {
            let limit = ctx.max_output_bytes;
            let msg = format!(
                "{who} wrote more than {} to stdout and was killed; stdout carries only the JSON result, \
                 write logs to stderr",
                human_bytes(limit)
            );
            Err(HandlerError::new(ErrorKind::OutputTooLarge { limit }, msg))
        }
        Ending::Lost(reason) => {
            let msg = format!("{who}: lost track of the process: {reason}");
            Err(HandlerError::new(ErrorKind::SpawnFailed { reason }, msg))
        }
        Ending::Exited(status) => match (status.code(), status.signal()) {
            (Some(0), _) => parse_output(stdout).map_err(|kind| {
                let msg = format!("{who} exited 0 but its output is invalid: {kind}");
                HandlerError::new(kind, msg).with_exit_code(0)
            }),
            (Some(code), _) => {
                let msg = format!("{who} exited with status {code}{}", tail_text(tail));
                Err(HandlerError::new(ErrorKind::NonZeroExit { code }, msg).with_exit_code(code))
            }
            (None, Some(signal)) => {
                let name = signal_name(signal)
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                let hint = if signal == libc::SIGKILL {
                    "; it may have run out of memory"
                } else {
                    ""
                };
                let msg = format!(
                    "{who} was killed by signal {signal}{name}{hint}{}",
                    tail_text(tail)
                );
                Err(HandlerError::new(ErrorKind::Signalled { signal }, msg))
            }
            (None, None) => {
                let reason = format!("unrecognised exit status {status:?}");
                Err(HandlerError::new(
                    ErrorKind::SpawnFailed {
                        reason: reason.clone(),
                    },
                    format!("{who}: {reason}"),
                ))
            }
        },
    }
}

/// Parses a handler's whole stdout as one JSON document; blank output is `null`.
pub(crate) fn parse_output(stdout: &[u8]) -> Result<Value, ErrorKind> {
    if stdout.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(stdout).map_err(|err| {
        let cut = stdout.len().min(EXCERPT_BYTES);
        let mut excerpt = String::from_utf8_lossy(&stdout[..cut]).into_owned();
        if cut < stdout.len() {
            excerpt.push('…');
        }
        ErrorKind::InvalidOutput {
            reason: format!(
                "stdout must be a single JSON document (write logs to stderr): {err}; \
                 stdout began with: {excerpt:?}"
            ),
            excerpt,
        }
    })
}

/// "; last stderr lines: ..." for messages, or a note that stderr was empty.
pub(crate) fn tail_text(tail: &VecDeque<String>) -> String {
    if tail.is_empty() {
        return "; it wrote nothing to stderr".to_string();
    }
    let lines: Vec<String> = tail
        .iter()
        .map(|l| match l.char_indices().nth(TAIL_LINE_CHARS) {
            Some((i, _)) => format!("  {}…", &l[..i]),
            None => format!("  {l}"),
        })
        .collect();
    let label = if tail.len() == 1 {
        "last stderr line"
    } else {
        "last stderr lines"
    };
    format!("; {label}:\n{}", lines.join("\n"))
}

pub(crate) fn human_bytes(n: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if n >= MIB && n & (MIB - 1) == 0 {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n & 1023 == 0 {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context<'static> {
        Context {
            command: "python3 handler.py",
            function: "resize",
            max_output_bytes: 64 << 20,
        }
    }

    #[test]
    fn blank_stdout_is_null_and_json_is_parsed() {
        assert_eq!(parse_output(b"  \n").unwrap(), Value::Null);
        assert_eq!(
            parse_output(b"\n{\"a\":1}\n").unwrap(),
            serde_json::json!({"a": 1})
        );
    }

    #[test]
    fn invalid_stdout_names_the_rule_position_and_excerpt() {
        let kind = parse_output(b"{\"a\":1}\nextra").unwrap_err();
        let ErrorKind::InvalidOutput { reason, excerpt } = kind else {
            panic!()
        };
        assert!(reason.contains("single JSON document"), "{reason}");
        assert!(
            reason.contains("trailing characters at line 2 column 1"),
            "{reason}"
        );
        assert_eq!(excerpt, "{\"a\":1}\nextra");
        let long = vec![b'x'; 500];
        let ErrorKind::InvalidOutput { excerpt, .. } = parse_output(&long).unwrap_err() else {
            panic!()
        };
        assert_eq!(excerpt.len(), EXCERPT_BYTES + '…'.len_utf8());
    }

    #[test]
    fn non_zero_exit_message_has_code_and_stderr_tail() {
        let tail: VecDeque<String> = ["first".to_string(), "Traceback: boom".to_string()].into();
        let err = classify(
            &ctx(),
            Ending::Exited(ExitStatus::from_raw(2 << 8)),
            b"",
            &tail,
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::NonZeroExit { code: 2 });
        assert_eq!(err.exit_code, Some(2));
        assert!(err.message.starts_with(
            "handler `python3 handler.py` for function `resize` exited with status 2"
        ));
        assert!(
            err.message
                .ends_with("last stderr lines:\n  first\n  Traceback: boom"),
            "{}",
            err.message
        );
    }

    #[test]
    fn signal_and_overflow_messages() {
        let err = classify(
            &ctx(),
            Ending::Exited(ExitStatus::from_raw(9)),
            b"",
            &VecDeque::new(),
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Signalled { signal: 9 });
        assert!(err.message.contains("SIGKILL"), "{}", err.message);
        let err = classify(&ctx(), Ending::TooLarge, b"", &VecDeque::new()).unwrap_err();
        assert!(err.message.contains("64 MiB"), "{}", err.message);
    }
}
