//! The three pipes of a handler: payload into stdin, result out of stdout, logs
//! out of stderr.
//!
//! They are separate futures driven concurrently by the supervisor, because doing
//! them in sequence deadlocks: a handler that prints before it has read all of a
//! large payload blocks on a full stdout pipe while we block writing stdin.
//! Stdout is bounded (a runaway handler must not exhaust server memory) and stderr
//! is split into bounded lines that reach the [`LogSink`] as they are read.

use std::collections::VecDeque;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::debug;

use crate::logs::{HandlerLogLine, LogSink, Stream};
use crate::progress::parse_progress_line;

/// Stderr lines longer than this are split into several log lines.
pub const MAX_LOG_LINE_BYTES: usize = 64 * 1024;
/// How many trailing stderr lines are kept for error messages.
pub(crate) const TAIL_LINES: usize = 5;
const READ_CHUNK: usize = 64 * 1024;

/// Writes the payload then closes the pipe. A handler that exits without reading
/// its input is fine, so a broken pipe is not an error.
pub(crate) async fn write_stdin<W: AsyncWrite + Unpin>(mut stdin: W, payload: Vec<u8>) {
    if let Err(err) = stdin.write_all(&payload).await {
        if err.kind() != std::io::ErrorKind::BrokenPipe {
            debug!(%err, "writing handler stdin failed");
        }
        return;
    }
    let _ = stdin.shutdown().await;
}

/// Reads stdout into `out` until EOF. Returns `true` (and stops reading) once
/// more than `limit` bytes arrived. Data read so far stays in `out` even if the
/// future is dropped early.
pub(crate) async fn read_bounded<R: AsyncRead + Unpin>(
    mut stdout: R,
    limit: usize,
    out: &mut Vec<u8>,
) -> bool {
    loop {
        out.reserve(READ_CHUNK.min(limit.saturating_add(1)));
        match stdout.read_buf(out).await {
            Ok(0) => return false,
            Ok(_) if out.len() > limit => return true,
            Ok(_) => {}
            Err(err) => {
                debug!(%err, "reading handler stdout failed");
                return false;
            }
        }
    }
}

/// Streams stderr to `sink` line by line, keeping the last lines in `tail`.
/// `SLUICE_PROGRESS {json}` lines go to [`LogSink::progress`] instead.
pub(crate) async fn pump_stderr<R: AsyncRead + Unpin>(
    mut stderr: R,
    sink: &dyn LogSink,
    request_id: &str,
    tail: &mut VecDeque<String>,
) {
    let mut splitter = LineSplitter::new(MAX_LOG_LINE_BYTES);
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut emit = |text: String| {
        if let Some(report) = parse_progress_line(&text) {
            return sink.progress(report);
        }
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(text.clone());
        sink.line(HandlerLogLine {
            at_ms: sluice_core::time::now_ms(),
            stream: Stream::Stderr,
            request_id: Some(request_id.to_string()),
            text,
        });
    };
    loop {
        match stderr.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => splitter.feed(&chunk[..n], &mut emit),
            Err(err) => {
                debug!(%err, "reading handler stderr failed");
                break;
            }
        }
    }
    splitter.finish(&mut emit);
}

/// Splits a byte stream into lines of at most `max` bytes, decoding lossily.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    buf: Vec<u8>,
    max: usize,
}

impl LineSplitter {
    pub(crate) fn new(max: usize) -> Self {
        LineSplitter {
            buf: Vec::new(),
            max: max.max(4),
        }
    }

    /// Consumes `bytes`, emitting every line completed (or overflowed) by them.
    pub(crate) fn feed(&mut self, mut bytes: &[u8], emit: &mut impl FnMut(String)) {
        while !bytes.is_empty() {
            let room = self.max - self.buf.len();
            let window = &bytes[..room.min(bytes.len())];
            if let Some(i) = window.iter().position(|&b| b == b'\n') {
                self.buf.extend_from_slice(&window[..i]);
                bytes = &bytes[i + 1..];
                if self.buf.last() == Some(&b'\r') {
                    self.buf.pop();
                }
                emit(String::from_utf8_lossy(&self.buf).into_owned());
                self.buf.clear();
            } else {
                self.buf.extend_from_slice(window);
                bytes = &bytes[window.len()..];
                if self.buf.len() >= self.max {
                    // Cut before an incomplete trailing UTF-8 character so it is
                    // not mangled into two replacement characters.
                    let cut = utf8_cut(&self.buf);
                    let rest = self.buf.split_off(cut);
                    emit(String::from_utf8_lossy(&self.buf).into_owned());
                    self.buf = rest;
                }
            }
        }
    }

    /// Emits a final line that had no terminator.
    pub(crate) fn finish(&mut self, emit: &mut impl FnMut(String)) {
        if !self.buf.is_empty() {
            emit(String::from_utf8_lossy(&self.buf).into_owned());
            self.buf.clear();
        }
    }
}

/// Where to cut `buf` so that a multi-byte character at its very end stays whole.
fn utf8_cut(buf: &[u8]) -> usize {
    let len = buf.len();
    for back in 1..=3.min(len) {
        let b = buf[len - back];
        if b & 0xC0 == 0x80 {
            continue; // continuation byte: keep looking for the lead byte
        }
        let width = match b {
            0xF0.. => 4,
            0xE0.. => 3,
            0xC0.. => 2,
            _ => 1,
        };
        return if width > back && len - back > 0 {
            len - back
        } else {
            len
        };
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(max: usize, chunks: &[&[u8]]) -> Vec<String> {
        let mut out = Vec::new();
        let mut s = LineSplitter::new(max);
        for c in chunks {
            s.feed(c, &mut |l| out.push(l));
        }
        s.finish(&mut |l| out.push(l));
        out
    }

    #[test]
    fn splits_lines_across_chunks_and_strips_crlf() {
        assert_eq!(
            split(64, &[b"a\r\nb", b"c\n", b"", b"tail"]),
            vec!["a", "bc", "tail"]
        );
        assert_eq!(split(64, &[b"\n\n"]), vec!["", ""]);
    }

    #[test]
    fn long_lines_are_split_at_the_limit() {
        assert_eq!(
            split(4, &[b"abcdefghij\nxy"]),
            vec!["abcd", "efgh", "ij", "xy"]
        );
    }

    #[test]
    fn split_does_not_break_a_multibyte_character() {
        // "aaaé" is 5 bytes; with max 4 the cut must fall before é, not inside it.
        let text = "aaaé\n".as_bytes();
        assert_eq!(split(4, &[text]), vec!["aaa", "é"]);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(split(64, &[b"ok\xff\n"]), vec!["ok\u{fffd}"]);
    }

    #[tokio::test]
    async fn read_bounded_stops_past_the_limit() {
        let mut out = Vec::new();
        assert!(read_bounded(&b"0123456789"[..], 5, &mut out).await);
        let mut out = Vec::new();
        assert!(!read_bounded(&b"01234"[..], 5, &mut out).await);
        assert_eq!(out, b"01234");
    }
}
