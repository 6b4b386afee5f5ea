//! Starting runs: invoke a function, start a pipeline.
//!
//! Both answer `202 Accepted` at once with the run id and where to follow it,
//! unless the caller asks to wait (`?wait=SECONDS`), which `sluice invoke` does.

use crate::body::JsonBody;
use crate::wait::{wait_for_run, WaitQuery};
use crate::ApiError;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sluice_core::RunKind;
use sluice_engine::{Engine, SubmitRequest};

pub async fn invoke_function(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(wait): Query<WaitQuery>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    submit(engine, RunKind::Function, name, wait, headers, body).await
}

pub async fn start_pipeline(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(wait): Query<WaitQuery>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    submit(engine, RunKind::Pipeline, name, wait, headers, body).await
}

async fn submit(
    engine: Engine,
    kind: RunKind,
    target: String,
    wait: WaitQuery,
    headers: HeaderMap,
    body: Value,
) -> Result<Response, ApiError> {
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let request = SubmitRequest {
        kind,
        target,
        input: body.clone(),
        trigger: "api".to_string(),
        idempotency_key: idempotency_key.clone(),
    };
    let submitted = engine.submit(request).await?;
    if let (true, Some(key)) = (submitted.duplicate, &idempotency_key) {
        crate::idempotency::check_same_input(&engine, key, &submitted.run_id, &body).await?;
    }
    if wait.seconds().is_some() {
        let run = wait_for_run(&engine, &submitted.run_id, &wait).await?;
        return Ok(Json(run).into_response());
    }
    let id = &submitted.run_id;
    let body = json!({
        "run_id": id,
        "duplicate": submitted.duplicate,
        "status_url": format!("/v1/runs/{id}"),
        "logs_url": format!("/v1/runs/{id}/logs"),
        "events_url": format!("/v1/runs/{id}/events"),
        "ws_url": format!("/v1/runs/{id}/ws"),
    });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}
