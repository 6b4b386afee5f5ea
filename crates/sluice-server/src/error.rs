//! Mapping of engine and store errors to HTTP responses.
//!
//! Every error body is `{"error": {"code": "...", "message": "..."}}` where the
//! message names the thing (run, queue, step) and, where possible, the fix.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use sluice_engine::EngineError;
use sluice_store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        let (status, code) = match &err {
            StoreError::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found"),
            StoreError::LeaseLost { .. } | StoreError::Conflict(_) => {
                (StatusCode::CONFLICT, "conflict")
            }
            StoreError::Unusable { .. } | StoreError::Backend(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable")
            }
        };
        ApiError {
            status,
            code,
            message: err.to_string(),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(err: EngineError) -> Self {
        match err {
            EngineError::Store(e) => e.into(),
            EngineError::UnknownTarget { .. } => ApiError {
                status: StatusCode::NOT_FOUND,
                code: "not_found",
                message: err.to_string(),
            },
            EngineError::Invalid(message) => ApiError {
                status: StatusCode::BAD_REQUEST,
                code: "invalid",
                message,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": { "code": self.code, "message": self.message } }));
        (self.status, body).into_response()
    }
}
