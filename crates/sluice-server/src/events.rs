//! Publishing events to the bus (`POST /v1/events`, like EventBridge's PutEvents).
//!
//! Events are small by design: they are kept in the state store and matched
//! in memory, while data of any size belongs in a bucket and travels as a
//! key. So an entry may be up to [`MAX_EVENT_BYTES`] (four times AWS's
//! 256 KB), a request up to [`MAX_ENTRIES`] entries and
//! [`MAX_EVENTS_BODY_BYTES`]. A request is checked whole before any of its
//! events is published: one bad entry rejects it, naming the entry, and
//! publishes nothing, so a corrected retry does not deliver twice.

use crate::body::{human_size, JsonBody};
use crate::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
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

/// Largest entry: its source, detail-type and detail as JSON.
pub const MAX_EVENT_BYTES: usize = 1 << 20;
/// Most entries in one request.
pub const MAX_ENTRIES: usize = 100;
/// Largest request body.
pub const MAX_EVENTS_BODY_BYTES: usize = 16 << 20;

pub async fn put_events(
    State(engine): State<Engine>,
    JsonBody(request): JsonBody<PutEvents, MAX_EVENTS_BODY_BYTES>,
) -> Result<Json<Value>, ApiError> {
    check(&request)?;
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

/// The whole request's problems, before anything is published.
fn check(request: &PutEvents) -> Result<(), ApiError> {
    let count = request.entries.len();
    if count == 0 {
        return Err(ApiError::bad_request(
            "`entries` must hold at least one event",
        ));
    }
    if count > MAX_ENTRIES {
        return Err(ApiError::bad_request(format!(
            "`entries` holds {count} events, more than the {MAX_ENTRIES} one request may publish; send them in several requests"
        )));
    }
    for (i, entry) in request.entries.iter().enumerate() {
        check_entry(entry).map_err(|e| ApiError {
            message: format!("entries[{i}]: {}", e.message),
            ..e
        })?;
    }
    Ok(())
}

fn check_entry(entry: &Entry) -> Result<(), ApiError> {
    if entry.source.is_empty() || entry.detail_type.is_empty() {
        return Err(ApiError::bad_request(
            "`source` and `detail-type` must not be empty",
        ));
    }
    if !matches!(entry.detail, Value::Object(_) | Value::Null) {
        return Err(ApiError::bad_request(format!(
            "`detail` must be a JSON object, not {}",
            sluice_core::transform::kind_of(&entry.detail)
        )));
    }
    let size = entry.source.len()
        + entry.detail_type.len()
        + serde_json::to_vec(&entry.detail).map_or(0, |v| v.len());
    if size > MAX_EVENT_BYTES {
        return Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "too_large",
            message: format!(
                "the event is {} bytes, more than the {} an event may hold; put the data in a bucket and send its key",
                size,
                human_size(MAX_EVENT_BYTES)
            ),
        });
    }
    Ok(())
}
