//! The HTTP edge of Sluice: a thin JSON API over the engine.
//!
//! Handlers parse the request, call the [`sluice_engine::Engine`] or the store,
//! and map errors to status codes; no domain logic lives here. The CLI's
//! commands (`invoke`, `runs`, `logs`, `rerun`, `dlq`) are clients of this API,
//! so everything the CLI can do a script can do over HTTP.

mod auth;
mod body;
mod error;
mod events;
mod feed;
mod feed_guard;
mod idempotency;
mod openapi;
mod pipeline_feed;
mod queues;
mod routes;
mod runs;
mod schedules;
mod shared_reads;
mod stream;
mod submit;
mod tables;
mod tokens;
mod triggers;
mod wait;

use axum::extract::State;
use axum::{Json, Router};
use serde_json::json;
use sluice_engine::Engine;

pub use auth::AuthMode;
pub use error::ApiError;
pub use openapi::document as openapi_document;

/// Largest request body the API accepts.
pub const MAX_BODY_BYTES: usize = 1 << 30;

/// How the API is served.
#[derive(Debug, Clone, Copy)]
pub struct ApiOptions {
    /// Whether calls need an API token (see [`AuthMode`]).
    pub auth: AuthMode,
}

/// All routes of the API, under `/v1`, and the project's HTTP triggers.
pub fn router(engine: Engine, options: ApiOptions) -> Router {
    let guard = axum::middleware::from_fn_with_state((engine.clone(), options.auth), auth::guard);
    let mut api = openapi::RouterSink(Router::new());
    routes::declare(&mut api);
    api.0
        .route_layer(guard)
        .merge(triggers::routes(&engine, options.auth))
        // Events and messages have no small size limit (AWS's is 256 KB);
        // bodies up to 1 GiB are accepted.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(engine)
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// `GET /v1/openapi.json`.
async fn openapi_json(State(engine): State<Engine>) -> Json<serde_json::Value> {
    Json(openapi::document(&engine.plan().http_triggers))
}
