//! Publishing events to the bus (`POST /v1/events`, like EventBridge's PutEvents).

use crate::ApiError;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sluice_engine::Engine;
use sluice_store::NewEvent;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct PutEvents {
    entries: Vec<Entry>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct Entry {
    source: String,
    #[serde(alias = "detail-type", alias = "detailType")]
    #[schemars(rename = "detail-type")]
    detail_type: String,
    #[serde(default)]
    detail: Value,
}

pub async fn put_events(
    State(engine): State<Engine>,
    Json(request): Json<PutEvents>,
) -> Result<Json<Value>, ApiError> {
    if request.entries.is_empty() {
        return Err(ApiError::bad_request(
            "`entries` must hold at least one event",
        ));
    }
    if let Some(i) = request
        .entries
        .iter()
        .position(|e| e.source.is_empty() || e.detail_type.is_empty())
    {
        return Err(ApiError::bad_request(format!(
            "entries[{i}]: `source` and `detail-type` must not be empty"
        )));
    }
    let entries = request
        .entries
        .into_iter()
        .map(|e| NewEvent {
            source: e.source,
            detail_type: e.detail_type,
            detail: e.detail,
        })
        .collect();
    let published = engine.put_events(entries).await?;
    Ok(Json(json!({ "entries": published })))
}
