//! Closing connections whose request body was not read to the end.
//!
//! When an S3 operation answers before reading the body (a PUT to a missing
//! bucket, say, sent with `Expect: 100-continue`), hyper cannot reuse the
//! connection and closes it after the response. A client may not notice the
//! close in time and send its next request on the dead connection — botocore
//! then even reports the *previous* response's status for it. Saying
//! `Connection: close` in such a response removes the race: the client
//! drops the connection as soon as it reads the response.

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// A request body that records whether it was read to its end.
pub(super) struct TrackedBody {
    inner: Incoming,
    finished: Arc<AtomicBool>,
}

impl TrackedBody {
    /// Wraps `inner`; the flag turns true once it is fully read (at once
    /// for an empty body).
    pub fn new(inner: Incoming) -> (TrackedBody, Arc<AtomicBool>) {
        let finished = Arc::new(AtomicBool::new(inner.is_end_stream()));
        (
            TrackedBody {
                inner,
                finished: finished.clone(),
            },
            finished,
        )
    }
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.finished.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Marks `response` `Connection: close` unless the body was read to its end.
pub(super) fn close_if_unread<B>(response: &mut hyper::Response<B>, finished: &AtomicBool) {
    if !finished.load(Ordering::Relaxed) {
        response.headers_mut().insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
    }
}
