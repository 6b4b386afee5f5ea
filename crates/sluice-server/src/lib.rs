//! The HTTP edge of Sluice: a thin JSON API over the engine.
//!
//! Handlers parse the request, call the [`sluice_engine::Engine`] or the store,
//! and map errors to status codes; no domain logic lives here. The CLI's
//! commands (`invoke`, `runs`, `logs`, `rerun`, `dlq`) are clients of this API,
//! so everything the CLI can do a script can do over HTTP.

mod error;
mod events;
mod feed;
mod queues;
mod runs;
mod schedules;
mod stream;
mod submit;
mod triggers;
mod wait;

use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use sluice_engine::Engine;

pub use error::ApiError;

/// Largest request body the API accepts.
pub const MAX_BODY_BYTES: usize = 1 << 30;

/// All routes of the API, under `/v1`.
pub fn router(engine: Engine) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/functions/{name}/invoke", post(submit::invoke_function))
        .route("/v1/pipelines/{name}/runs", post(submit::start_pipeline))
        .route("/v1/queues", get(queues::list))
        .route("/v1/queues/{name}", get(queues::stats))
        .route(
            "/v1/queues/{name}/messages",
            get(queues::messages).post(queues::send),
        )
        .route("/v1/queues/{name}/dead-letters", get(queues::dead_letters))
        .route("/v1/queues/{name}/redrive", post(queues::redrive))
        .route("/v1/runs", get(runs::list))
        .route("/v1/runs/{id}", get(runs::show))
        .route("/v1/runs/{id}/logs", get(runs::logs))
        .route("/v1/runs/{id}/rerun", post(runs::rerun))
        .route("/v1/runs/{id}/cancel", post(runs::cancel))
        .route("/v1/runs/{id}/events", get(stream::sse))
        .route("/v1/runs/{id}/ws", get(stream::websocket))
        .route("/v1/events", post(events::put_events))
        .route("/v1/schedules", get(schedules::list))
        .route("/v1/schedules/{name}/trigger", post(schedules::trigger))
        .merge(triggers::routes(&engine))
        // Events and messages have no small size limit (AWS's is 256 KB);
        // bodies up to 1 GiB are accepted.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(engine)
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}
