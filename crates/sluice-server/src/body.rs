//! JSON request bodies, read the same way by every route.
//!
//! axum's `Json` answers a bad body in plain text, and its `Option<Json>`
//! quietly turns a body sent without `Content-Type: application/json`
//! (what `curl -d` sends) into no body at all. [`JsonBody`] reads the bytes
//! whatever the content type says, bounded by `LIMIT`, and answers every
//! problem with the API's JSON error: `413` for a body over the limit
//! (saying the limit), `400` for one that is not JSON (with the line and
//! column where parsing stopped) or not of the expected shape.

use crate::{ApiError, MAX_BODY_BYTES};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// A JSON body of at most `LIMIT` bytes; an empty body reads as `null`.
#[derive(Debug)]
pub struct JsonBody<T, const LIMIT: usize = MAX_BODY_BYTES>(pub T);

impl<S, T, const LIMIT: usize> FromRequest<S> for JsonBody<T, LIMIT>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let declared = request
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > LIMIT as u64) {
            return Err(too_large(LIMIT));
        }
        let bytes = axum::body::to_bytes(request.into_body(), LIMIT)
            .await
            .map_err(|error| {
                let limited = std::error::Error::source(&error)
                    .is_some_and(|e| e.is::<http_body_util::LengthLimitError>());
                if limited {
                    too_large(LIMIT)
                } else {
                    ApiError::bad_request(format!("could not read the request body: {error}"))
                }
            })?;
        parse(&bytes).map(JsonBody)
    }
}

/// `bytes` as JSON of type `T`; empty means `null`.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|error| {
        let what = if bytes.iter().all(u8::is_ascii_whitespace) {
            "the request has no body, and one is needed".to_string()
        } else if error.is_syntax() || error.is_eof() {
            format!("the body is not valid JSON: {error}")
        } else {
            format!("the body does not have the expected shape: {error}")
        };
        ApiError::bad_request(what)
    })
}

fn too_large(limit: usize) -> ApiError {
    ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "too_large",
        message: format!(
            "the body is larger than this route's limit of {}; put large data in a bucket and send its key",
            human_size(limit)
        ),
    }
}

/// `16 MiB`, `1 GiB`.
pub fn human_size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn bad_json_says_where() {
        let err = parse::<Value>(b"{\"a\": 1,\n \"b\": }").unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.contains("line 2 column"), "{}", err.message);
    }

    #[test]
    fn an_empty_body_is_null_or_a_clear_error() {
        assert_eq!(parse::<Value>(b"").unwrap(), Value::Null);
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Needs {
            a: u32,
        }
        let err = parse::<Needs>(b" \n").unwrap_err();
        assert!(err.message.contains("no body"), "{}", err.message);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(16 << 20), "16 MiB");
        assert_eq!(human_size(1 << 30), "1 GiB");
        assert_eq!(human_size(1000), "1000 bytes");
    }
}
