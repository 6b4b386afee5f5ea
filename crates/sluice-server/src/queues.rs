//! Queues: send, inspect, and manage dead letters.
//!
//! A queue may be named by its own name or by the function or pipeline whose
//! implicit queue it is, so `sluice dlq list resize` works for a function.

use crate::body::JsonBody;
use crate::ApiError;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sluice_engine::plan::QueuePlan;
use sluice_engine::{Engine, EngineError};
use sluice_store::MessageInfo;

fn resolve<'a>(engine: &'a Engine, name: &str) -> Result<&'a QueuePlan, ApiError> {
    let plan = engine.plan();
    plan.resolve_queue(name)
        .ok_or_else(|| EngineError::unknown("queue", name, plan.queue_names().iter()).into())
}

fn dead_letter_of(engine: &Engine, name: &str) -> Result<String, ApiError> {
    let queue = resolve(engine, name)?;
    queue.def.dead_letter_queue.clone().ok_or_else(|| {
        ApiError::bad_request(format!(
            "queue `{}` is itself a dead-letter queue and has none of its own",
            queue.def.name
        ))
    })
}

pub async fn list(State(engine): State<Engine>) -> Result<Json<Value>, ApiError> {
    let mut out = Vec::new();
    for q in &engine.plan().queues {
        let stats = engine.store().queue_stats(&q.def.name).await?;
        out.push(json!({ "name": q.def.name, "definition": q.def, "stats": stats }));
    }
    Ok(Json(Value::Array(out)))
}

pub async fn stats(
    State(engine): State<Engine>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let queue = resolve(&engine, &name)?;
    let stats = engine.store().queue_stats(&queue.def.name).await?;
    Ok(Json(
        json!({ "name": queue.def.name, "definition": queue.def, "stats": stats }),
    ))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct LimitQuery {
    limit: Option<usize>,
}

pub async fn messages(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(q): Query<LimitQuery>,
) -> Result<Json<Vec<MessageInfo>>, ApiError> {
    let queue = resolve(&engine, &name)?.def.name.clone();
    Ok(Json(
        engine
            .store()
            .list_messages(&queue, q.limit.unwrap_or(100).min(10_000))
            .await?,
    ))
}

pub async fn dead_letters(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(q): Query<LimitQuery>,
) -> Result<Json<Vec<MessageInfo>>, ApiError> {
    let dlq = dead_letter_of(&engine, &name)?;
    Ok(Json(
        engine
            .store()
            .list_messages(&dlq, q.limit.unwrap_or(100).min(10_000))
            .await?,
    ))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SendBody {
    body: Value,
    group: Option<String>,
    dedup_key: Option<String>,
    #[serde(default)]
    delay_ms: u64,
}

pub async fn send(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    JsonBody(msg): JsonBody<SendBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let sent = engine
        .send(&name, msg.body, msg.group, msg.dedup_key, msg.delay_ms)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(json!(sent))))
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct RedriveBody {
    max: Option<usize>,
}

pub async fn redrive(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Option<RedriveBody>>,
) -> Result<Json<Value>, ApiError> {
    let dlq = dead_letter_of(&engine, &name)?;
    let max = body.and_then(|b| b.max).unwrap_or(usize::MAX);
    let moved = engine.store().redrive(&dlq, max).await?;
    for q in engine.plan().queues.iter().filter(|q| q.consumer.is_some()) {
        engine.wake(&q.def.name);
    }
    tracing::info!(dead_letter_queue = %dlq, moved, "redrove dead letters");
    Ok(Json(json!({ "dead_letter_queue": dlq, "moved": moved })))
}
