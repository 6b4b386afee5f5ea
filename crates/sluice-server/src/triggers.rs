//! HTTP triggers: project-declared paths that start work and answer at once
//! with `202 Accepted`, the run's id and where to follow it.
//!
//! A trigger with `auth.tokens` demands `Authorization: Bearer TOKEN`: no
//! token is `401`, a wrong one `403`. The tokens scope the caller to this
//! trigger only. An `Idempotency-Key` header makes a repeated submission
//! return the first one's run.

use crate::ApiError;
use axum::body::Bytes;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{json, Value};
use sluice_engine::plan::HttpTriggerPlan;
use sluice_engine::Engine;
use std::sync::Arc;

/// Adds one route per HTTP trigger of the plan.
pub fn routes(engine: &Engine) -> Router<Engine> {
    let mut router = Router::new();
    for trigger in &engine.plan().http_triggers {
        let trigger = Arc::new(trigger.clone());
        router = router.route(
            &trigger.path.clone(),
            any(
                move |axum::extract::State(engine): axum::extract::State<Engine>,
                      method: Method,
                      headers: HeaderMap,
                      body: Bytes| {
                    let trigger = trigger.clone();
                    async move { handle(engine, &trigger, method, headers, body).await }
                },
            ),
        );
    }
    router
}

async fn handle(
    engine: Engine,
    trigger: &HttpTriggerPlan,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !trigger.methods.iter().any(|m| m == method.as_str()) {
        let message = format!("`{}` accepts {}", trigger.path, trigger.methods.join(", "));
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            message,
        );
    }
    if let Some(denied) = authorize(trigger, &headers) {
        return denied;
    }
    let input: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return ApiError::bad_request(format!("the body is not valid JSON: {e}"))
                    .into_response()
            }
        }
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|k| format!("http:{}:{k}", trigger.name));
    match engine
        .dispatch(
            &trigger.target,
            &input,
            format!("http:{}", trigger.name),
            key,
        )
        .await
    {
        Ok(dispatched) => {
            let mut body =
                json!({ "message_id": dispatched.message_id, "duplicate": dispatched.duplicate });
            if let Some(id) = &dispatched.run_id {
                body["run_id"] = json!(id);
                body["status_url"] = json!(format!("/v1/runs/{id}"));
                body["logs_url"] = json!(format!("/v1/runs/{id}/logs"));
            }
            (StatusCode::ACCEPTED, Json(body)).into_response()
        }
        Err(err) => ApiError::from(err).into_response(),
    }
}

/// `None` when the request may proceed.
fn authorize(trigger: &HttpTriggerPlan, headers: &HeaderMap) -> Option<Response> {
    if trigger.tokens.is_empty() {
        return None;
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        None => {
            let mut response = error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send `Authorization: Bearer TOKEN`".to_string(),
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            Some(response)
        }
        Some(token)
            if trigger
                .tokens
                .iter()
                .any(|t| constant_time_eq(t.as_bytes(), token.as_bytes())) =>
        {
            None
        }
        Some(_) => Some(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this token may not call `{}`", trigger.path),
        )),
    }
}

/// Compares without stopping at the first difference, so timing tells nothing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn error(status: StatusCode, code: &'static str, message: String) -> Response {
    ApiError {
        status,
        code,
        message,
    }
    .into_response()
}
