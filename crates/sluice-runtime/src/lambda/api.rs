//! The AWS Lambda Runtime API (`2018-06-01`) as served to one warm process.
//!
//! Paths, methods, headers and status codes follow AWS's OpenAPI description
//! so that the official runtime clients (`awslambdaric`, `lambda_runtime`, the
//! Node and Java RICs) run unchanged:
//!
//! | request | answer |
//! | --- | --- |
//! | `GET  /2018-06-01/runtime/invocation/next` | 200, event body, `Lambda-Runtime-*` headers |
//! | `POST /2018-06-01/runtime/invocation/{id}/response` | 202; 400 unknown id; 403 answered twice; 413 too large |
//! | `POST /2018-06-01/runtime/invocation/{id}/error` | 202; same errors |
//! | `POST /2018-06-01/runtime/init/error` | 202 |
//! | `POST /sluice/progress` (Sluice's own) | 202; 400 not a report; 409 no invocation |
//!
//! Error bodies are AWS's `{"errorMessage": ..., "errorType": ...}`.

use std::sync::{Arc, OnceLock};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use tracing::warn;

use super::link::{Finish, Link, Reply, ReportedError};
use super::output::{catch_up, OutputCursor};
use crate::progress::{parse_progress_body, MAX_PROGRESS_BODY};

/// What a process's API needs besides its [`Link`].
pub(crate) struct ApiState {
    pub link: Arc<Link>,
    pub function_arn: String,
    pub max_payload_bytes: usize,
    /// The process's stdout/stderr, caught up with before an answer is accepted.
    pub outputs: OnceLock<Vec<Arc<OutputCursor>>>,
}

type Shared = Arc<ApiState>;

pub(crate) const NEXT_PATH: &str = "/2018-06-01/runtime/invocation/next";
pub(crate) const PROGRESS_PATH: &str = "/sluice/progress";
const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";

pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route(NEXT_PATH, get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .route(PROGRESS_PATH, post(progress))
        .with_state(state)
}

fn aws_error(status: StatusCode, error_type: &str, message: String) -> Response {
    let body = json!({ "errorMessage": message, "errorType": error_type });
    (status, axum::Json(body)).into_response()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, axum::Json(json!({ "status": "OK" }))).into_response()
}

async fn next(State(api): State<Shared>) -> Response {
    let Some(event) = api.link.next_event().await else {
        return aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceShuttingDown",
            "this process is being stopped by Sluice".into(),
        );
    };
    let mut response = Response::new(Body::from(event.payload));
    let headers = response.headers_mut();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    put("lambda-runtime-aws-request-id", &event.request_id);
    put("lambda-runtime-deadline-ms", &event.deadline_ms.to_string());
    put("lambda-runtime-invoked-function-arn", &api.function_arn);
    put("lambda-runtime-trace-id", &event.trace_id);
    if let Some(client_context) = &event.caller.client_context {
        put("lambda-runtime-client-context", client_context);
    }
    if let Some(identity) = &event.caller.cognito_identity {
        put("lambda-runtime-cognito-identity", identity);
    }
    put("content-type", "application/json");
    response
}

/// Reads a body of at most `limit` bytes; `Err` is the 413 to send.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Response> {
    let too_large = || {
        aws_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("the body exceeds this function's limit of {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())
}

/// The answer to `/response` or `/error`, once the lines the handler printed
/// before answering have reached the invocation's log.
async fn finish_answer(api: &ApiState, id: &str, reply: Reply) -> Response {
    if let Some(outputs) = api.outputs.get() {
        catch_up(outputs).await;
    }
    match api.link.finish(id, reply) {
        Finish::Accepted => accepted(),
        Finish::AlreadyAnswered => {
            warn!(request_id = id, "lambda handler answered a request twice");
            aws_error(
                StatusCode::FORBIDDEN,
                "InvalidStateTransition",
                format!("request {id} has already been answered (or timed out)"),
            )
        }
        Finish::Unknown => {
            warn!(
                request_id = id,
                "lambda handler answered an unknown request id"
            );
            aws_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestID",
                format!("request id {id} is not the invocation this process is working on"),
            )
        }
    }
}

async fn response(
    State(api): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match read_body(&headers, body, api.max_payload_bytes).await {
        Ok(bytes) => finish_answer(&api, &id, Reply::Response(bytes)).await,
        Err(too_large) => {
            let limit = api.max_payload_bytes;
            let answer = finish_answer(&api, &id, Reply::ResponseTooLarge { limit }).await;
            // The invocation fails either way; the process learns why with a 413.
            if answer.status() == StatusCode::ACCEPTED {
                too_large
            } else {
                answer
            }
        }
    }
}

async fn error(
    State(api): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match read_body(&headers, body, api.max_payload_bytes).await {
        Ok(bytes) => finish_answer(&api, &id, Reply::Error(parse_error(&headers, &bytes))).await,
        Err(too_large) => too_large,
    }
}

async fn init_error(State(api): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    match read_body(&headers, body, api.max_payload_bytes).await {
        Ok(bytes) => {
            if let Some(outputs) = api.outputs.get() {
                catch_up(outputs).await;
            }
            api.link.init_failed(parse_error(&headers, &bytes));
            accepted()
        }
        Err(too_large) => too_large,
    }
}

async fn progress(State(api): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    let bytes = match read_body(&headers, body, MAX_PROGRESS_BODY).await {
        Ok(bytes) => bytes,
        Err(too_large) => return too_large,
    };
    match parse_progress_body(&bytes) {
        Ok(report) => match api.link.progress(report) {
            true => StatusCode::ACCEPTED.into_response(),
            false => (StatusCode::CONFLICT, "no invocation is in progress").into_response(),
        },
        Err(reason) => (StatusCode::BAD_REQUEST, reason).into_response(),
    }
}

/// AWS's error document (`errorType`, `errorMessage`, `stackTrace`); anything
/// else is kept as the message with the type from the header.
pub(crate) fn parse_error(headers: &HeaderMap, body: &[u8]) -> ReportedError {
    let header_type = headers
        .get(ERROR_TYPE_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    let doc: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_string);
    let stack_trace = match doc.get("stackTrace") {
        Some(Value::Array(frames)) => frames
            .iter()
            .map(|f| f.as_str().map_or_else(|| f.to_string(), str::to_string))
            .collect(),
        Some(Value::String(s)) => s.lines().map(str::to_string).collect(),
        _ => Vec::new(),
    };
    ReportedError {
        error_type: text("errorType")
            .or(header_type)
            .unwrap_or_else(|| "Unhandled".to_string()),
        message: text("errorMessage").unwrap_or_else(|| {
            if doc.is_null() {
                String::from_utf8_lossy(body).into_owned()
            } else {
                doc.to_string()
            }
        }),
        stack_trace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_documents_keep_type_message_and_trace() {
        let body = br#"{"errorMessage":"boom","errorType":"ValueError","stackTrace":["  File \"app.py\"\n"]}"#;
        let err = parse_error(&HeaderMap::new(), body);
        assert_eq!(err.error_type, "ValueError");
        assert_eq!(err.message, "boom");
        assert_eq!(err.stack_trace.len(), 1);

        let mut headers = HeaderMap::new();
        headers.insert(
            ERROR_TYPE_HEADER,
            HeaderValue::from_static("Runtime.Custom"),
        );
        let err = parse_error(&headers, b"not json");
        assert_eq!(err.error_type, "Runtime.Custom");
        assert_eq!(err.message, "not json");
    }
}
