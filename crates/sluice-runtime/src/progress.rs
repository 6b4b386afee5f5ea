//! Progress reports from handlers: "done 40 of 100, resizing images".
//!
//! Long batch handlers need to say how far they are, in any language, without a
//! client library. Two ways, both delivered to [`LogSink::progress`] of the
//! invocation in flight:
//!
//! * **HTTP**: `POST $SLUICE_PROGRESS_URL` with a JSON body
//!   `{"done": 40, "total": 100, "message": "resizing"}` (`total` and `message`
//!   optional). Answers `202 Accepted`; `400` for a body that is not a report.
//!   `curl -d '{"done":1}' "$SLUICE_PROGRESS_URL"` is enough.
//! * **A line** on stderr (both streams for the Lambda runtime, whose stdout is
//!   a log too) starting with [`PROGRESS_LINE_PREFIX`] followed by the same JSON:
//!   `SLUICE_PROGRESS {"done":40,"total":100}`. Such lines are consumed as
//!   progress, not stored as log lines. A malformed one is kept as a log line.
//!
//! The Lambda runtime serves the endpoint on each process's own Runtime API
//! listener. One-shot processes share one loopback listener ([`ProgressHub`]) on
//! a dedicated thread, so it outlives any particular tokio runtime; each call
//! registers its sink under an unguessable token that is removed when the call
//! ends, so a handler can only report on its own invocation.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::logs::LogSink;

/// The prefix of a progress line on stderr/stdout (note the trailing space).
pub const PROGRESS_LINE_PREFIX: &str = "SLUICE_PROGRESS ";
/// The environment variable naming the progress endpoint.
pub const PROGRESS_URL_VAR: &str = "SLUICE_PROGRESS_URL";
/// Largest accepted progress body; a report is a few numbers and a sentence.
pub(crate) const MAX_PROGRESS_BODY: usize = 64 * 1024;

/// How far a handler has come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressReport {
    /// Units of work finished so far.
    pub done: u64,
    /// Units of work in total, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// What the handler is doing now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The report carried by a `SLUICE_PROGRESS {json}` line, if `line` is one.
pub fn parse_progress_line(line: &str) -> Option<ProgressReport> {
    let json = line.strip_prefix(PROGRESS_LINE_PREFIX)?;
    serde_json::from_str(json.trim()).ok()
}

/// Parses an HTTP progress body, with a reason fit for a 400 response.
pub(crate) fn parse_progress_body(body: &[u8]) -> Result<ProgressReport, String> {
    serde_json::from_slice(body).map_err(|err| {
        format!(
            "a progress report is JSON like {{\"done\": 3, \"total\": 10, \"message\": \"...\"}}: {err}"
        )
    })
}

type Sinks = Arc<Mutex<HashMap<String, Arc<dyn LogSink>>>>;

/// The shared loopback progress endpoint for one-shot handlers.
pub(crate) struct ProgressHub {
    addr: SocketAddr,
    sinks: Sinks,
}

/// A call's registration with the hub; unregisters on drop.
pub(crate) struct ProgressRegistration {
    token: String,
    sinks: Sinks,
    /// The URL to export as `SLUICE_PROGRESS_URL`.
    pub url: String,
}

impl Drop for ProgressRegistration {
    fn drop(&mut self) {
        lock(&self.sinks).remove(&self.token);
    }
}

impl ProgressHub {
    /// The process-wide hub, started on first use; `None` if it could not bind.
    pub(crate) fn global() -> Option<&'static ProgressHub> {
        static HUB: OnceLock<Option<ProgressHub>> = OnceLock::new();
        HUB.get_or_init(|| match ProgressHub::start() {
            Ok(hub) => Some(hub),
            Err(err) => {
                warn!(%err, "progress endpoint unavailable; handlers can still report on stderr");
                None
            }
        })
        .as_ref()
    }

    fn start() -> std::io::Result<ProgressHub> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let sinks: Sinks = Arc::default();
        let app = Router::new()
            .route("/progress/{token}", post(report))
            .with_state(sinks.clone());
        std::thread::Builder::new()
            .name("sluice-progress".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(err) => return warn!(%err, "progress endpoint runtime failed"),
                };
                rt.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => {
                            if let Err(err) = axum::serve(listener, app).await {
                                warn!(%err, "progress endpoint stopped");
                            }
                        }
                        Err(err) => warn!(%err, "progress endpoint listener failed"),
                    }
                });
            })?;
        Ok(ProgressHub { addr, sinks })
    }

    /// Routes reports posted to the returned URL to `sink` until the guard drops.
    pub(crate) fn register(&self, sink: Arc<dyn LogSink>) -> ProgressRegistration {
        let token = random_token();
        lock(&self.sinks).insert(token.clone(), sink);
        ProgressRegistration {
            url: format!("http://{}/progress/{token}", self.addr),
            token,
            sinks: self.sinks.clone(),
        }
    }
}

async fn report(
    State(sinks): State<Sinks>,
    Path(token): Path<String>,
    body: axum::body::Body,
) -> (StatusCode, String) {
    let Ok(body) = axum::body::to_bytes(body, MAX_PROGRESS_BODY).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            "progress report too large".into(),
        );
    };
    let report = match parse_progress_body(&body) {
        Ok(report) => report,
        Err(reason) => return (StatusCode::BAD_REQUEST, reason),
    };
    let sink = lock(&sinks).get(&token).cloned();
    match sink {
        Some(sink) => {
            sink.progress(report);
            (StatusCode::ACCEPTED, String::new())
        }
        None => (
            StatusCode::NOT_FOUND,
            "no such invocation (it has ended)".into(),
        ),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// 128 random bits as hex, from the kernel.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 16];
    // SAFETY: getrandom writes at most `len` bytes into the buffer we own.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != bytes.len() as isize {
        // Never expected on Linux ≥ 3.17; fall back to something unique, not secret.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_parse_and_others_do_not() {
        assert_eq!(
            parse_progress_line(r#"SLUICE_PROGRESS {"done":3,"total":10,"message":"hi"}"#),
            Some(ProgressReport {
                done: 3,
                total: Some(10),
                message: Some("hi".into())
            })
        );
        assert_eq!(
            parse_progress_line(r#"SLUICE_PROGRESS {"done":1}"#)
                .unwrap()
                .total,
            None
        );
        assert!(parse_progress_line("SLUICE_PROGRESS nope").is_none());
        assert!(parse_progress_line(r#"log {"done":1}"#).is_none());
    }

    #[test]
    fn tokens_are_unique_hex() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
