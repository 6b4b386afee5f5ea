//! Conversions between s3s's DTOs and the domain: bodies, timestamps,
//! ETags, metadata, ranges and conditional headers.

use crate::blob::ByteStream;
use crate::service::{ByteRange, Conditions};
use bytes::Bytes;
use futures::{Stream, TryStreamExt};
use s3s::dto::{ETag, ETagCondition, Range, StreamingBlob, Timestamp};
use std::collections::BTreeMap;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A request body as a domain byte stream (an aborted upload becomes an error).
pub(super) fn request_body(body: Option<StreamingBlob>) -> ByteStream {
    match body {
        Some(blob) => Box::pin(blob.map_err(|e| std::io::Error::other(e.to_string()))),
        None => Box::pin(futures::stream::empty()),
    }
}

/// A domain byte stream as a response body. s3s wants `Sync` streams; the
/// wrapper gets it for free because `poll_next` has exclusive access.
pub(super) fn response_body(bytes: ByteStream) -> StreamingBlob {
    StreamingBlob::wrap(SyncStream(std::sync::Mutex::new(bytes)))
}

struct SyncStream(std::sync::Mutex<ByteStream>);

impl Stream for SyncStream {
    type Item = Result<Bytes, std::io::Error>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let inner = self
            .get_mut()
            .0
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.as_mut().poll_next(cx)
    }
}

pub(super) fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from(UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64))
}

pub(super) fn millis(timestamp: &Timestamp) -> i64 {
    let time: SystemTime = time::OffsetDateTime::from(timestamp.clone()).into();
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub(super) fn etag(value: &str) -> ETag {
    ETag::Strong(value.to_string())
}

pub(super) fn condition(condition: Option<&ETagCondition>) -> Option<String> {
    condition.map(|c| match c {
        ETagCondition::Any => "*".to_string(),
        ETagCondition::ETag(tag) => tag.value().to_string(),
    })
}

pub(super) fn conditions(
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> Conditions {
    Conditions {
        if_match: condition(if_match),
        if_none_match: condition(if_none_match),
        if_modified_since_ms: if_modified_since.map(millis),
        if_unmodified_since_ms: if_unmodified_since.map(millis),
    }
}

pub(super) fn byte_range(range: Option<&Range>) -> Option<ByteRange> {
    range.map(|range| match *range {
        Range::Int { first, last } => ByteRange::From { first, last },
        Range::Suffix { length } => ByteRange::Suffix { length },
    })
}

pub(super) fn metadata_in(metadata: Option<s3s::dto::Metadata>) -> BTreeMap<String, String> {
    metadata
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

pub(super) fn metadata_out(metadata: &BTreeMap<String, String>) -> Option<s3s::dto::Metadata> {
    (!metadata.is_empty()).then(|| {
        metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    })
}

/// Decodes a base64 `Content-MD5` header; `None` if it is not 16 bytes.
pub(super) fn content_md5(header: Option<&str>) -> Result<Option<[u8; 16]>, s3s::S3Error> {
    let Some(header) = header else {
        return Ok(None);
    };
    let invalid = || s3s::s3_error!(InvalidDigest, "Content-MD5 is not the base64 of 16 bytes");
    let decoded = decode_base64(header).ok_or_else(invalid)?;
    decoded.try_into().map(Some).map_err(|_| invalid())
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.trim_end_matches('=').bytes() {
        let value = ALPHABET.iter().position(|&c| c == byte)? as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

/// Percent-encodes a key for listings requested with `encoding-type=url`.
pub(super) fn url_encode(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// Hex form of a listing continuation token (opaque to clients).
pub(super) fn encode_token(after: &str) -> String {
    after.bytes().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn decode_token(token: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_tokens() {
        assert_eq!(
            decode_base64("1B2M2Y8AsgTpgAmY7PhCfg==").map(|v| v.len()),
            Some(16)
        );
        assert_eq!(
            decode_token(&encode_token("a b/ü")).as_deref(),
            Some("a b/ü")
        );
        assert_eq!(decode_token("zz"), None);
        assert_eq!(url_encode("a b+ü/c"), "a%20b%2B%C3%BC/c");
    }
}
