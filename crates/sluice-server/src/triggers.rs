//! HTTP triggers: project-declared paths that start work and answer at once
//! with `202 Accepted`, the run's id and where to follow it.
//!
//! A trigger with `auth` (or any trigger when the API requires tokens)
//! demands `Authorization: Bearer TOKEN`: no token is `401`. It accepts the
//! tokens declared in `auth.tokens` (which scope the caller to this trigger
//! only; a wrong one is `403`) and API tokens (`sluice token create`) whose
//! scope covers the trigger's target: a pipeline target needs a token for
//! that pipeline (or `all`), a function or queue target a token for `all`.
//! An unknown, revoked or expired API token is `401`, one out of scope `403`.
//! An `Idempotency-Key` header makes a repeated submission return the first
//! one's run.

use crate::auth::{self, AuthMode};
use crate::ApiError;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{json, Value};
use sluice_core::token::{self as api_token, Access};
use sluice_engine::plan::{HttpTriggerPlan, TargetKind};
use sluice_engine::Engine;
use std::sync::Arc;

/// Adds one route per HTTP trigger of the plan.
pub fn routes(engine: &Engine, mode: AuthMode) -> Router<Engine> {
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
                    async move { handle(engine, &trigger, mode, method, headers, body).await }
                },
            ),
        );
    }
    router
}

async fn handle(
    engine: Engine,
    trigger: &HttpTriggerPlan,
    mode: AuthMode,
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
    if let Some(denied) = authorize(&engine, trigger, mode, &headers).await {
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
    let presented = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let key = presented
        .as_ref()
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
            if let (true, Some(key), Some(run_id)) =
                (dispatched.duplicate, &presented, &dispatched.run_id)
            {
                let input = match &trigger.target.input {
                    Some(template) => sluice_core::transform::apply_template(template, &input),
                    None => input.clone(),
                };
                if let Err(refused) =
                    crate::idempotency::check_same_input(&engine, key, run_id, &input).await
                {
                    return refused.into_response();
                }
            }
            let mut body =
                json!({ "message_id": dispatched.message_id, "duplicate": dispatched.duplicate });
            if let Some(id) = &dispatched.run_id {
                body["run_id"] = json!(id);
                body["status_url"] = json!(format!("/v1/runs/{id}"));
                body["logs_url"] = json!(format!("/v1/runs/{id}/logs"));
                body["events_url"] = json!(format!("/v1/runs/{id}/events"));
                body["ws_url"] = json!(format!("/v1/runs/{id}/ws"));
            }
            (StatusCode::ACCEPTED, Json(body)).into_response()
        }
        Err(err) => ApiError::from(err).into_response(),
    }
}

/// `None` when the request may proceed.
async fn authorize(
    engine: &Engine,
    trigger: &HttpTriggerPlan,
    mode: AuthMode,
    headers: &HeaderMap,
) -> Option<Response> {
    if !trigger.requires_auth && mode == AuthMode::Off {
        return None;
    }
    let Some(presented) = auth::bearer(headers) else {
        return Some(auth::unauthorized(
            "send `Authorization: Bearer TOKEN`".to_string(),
        ));
    };
    if trigger
        .tokens
        .iter()
        .any(|t| api_token::constant_time_eq(t.as_bytes(), presented.as_bytes()))
    {
        return None;
    }
    if api_token::parse(presented).is_some() || trigger.tokens.is_empty() {
        let access = match &trigger.target.kind {
            TargetKind::Pipeline(name) => Access::Pipeline(name.clone()),
            TargetKind::Function(_) | TargetKind::Queue(_) | TargetKind::Topic(_) => Access::All,
        };
        return match engine.authenticate(presented, &access).await {
            Ok(Ok(_)) => None,
            Ok(Err(err)) => Some(auth::refused(&err)),
            Err(err) => Some(ApiError::from(err).into_response()),
        };
    }
    Some(error(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!("this token may not call `{}`", trigger.path),
    ))
}

fn error(status: StatusCode, code: &'static str, message: String) -> Response {
    ApiError {
        status,
        code,
        message,
    }
    .into_response()
}
