//! The run feed's two transports: Server-Sent Events and WebSocket.

use crate::auth::Credential;
use crate::feed::{run_feed, FeedItem, KEEP_ALIVE};
use crate::feed_guard::{guard, STALLED_AFTER};
use crate::pipeline_feed::pipeline_feed;
use crate::ApiError;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::Response;
use futures::stream::Stream;
use serde::Deserialize;
use sluice_engine::Engine;
use std::convert::Infallible;

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct FeedQuery {
    /// Resume after this log sequence number.
    after: Option<i64>,
}

/// `GET /v1/runs/{id}/events`: the feed as Server-Sent Events; each event's
/// `id` is its resume position and its `event` the kind.
pub async fn sse(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(q): Query<FeedQuery>,
    credential: Option<Extension<Credential>>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let after = last_event_id(&headers).or(q.after).unwrap_or(0);
    let feed = run_feed(engine.clone(), id, after);
    sse_of(guard(engine, credential.map(|c| c.0), feed))
}

fn sse_of(
    rx: tokio::sync::mpsc::Receiver<FeedItem>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = futures::stream::unfold(rx, |mut rx| async move {
        let item = rx.recv().await?;
        Some((Ok(sse_event(&item)), rx))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

fn last_event_id(headers: &HeaderMap) -> Option<i64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn known_pipeline(engine: &Engine, name: &str) -> Result<(), ApiError> {
    if engine.plan().pipelines.contains_key(name) {
        return Ok(());
    }
    Err(
        sluice_engine::EngineError::unknown("pipeline", name, engine.plan().pipelines.keys())
            .into(),
    )
}

/// `GET /v1/pipelines/{name}/events`: every run of the pipeline, live, as
/// Server-Sent Events (see [`crate::pipeline_feed`]).
pub async fn pipeline_sse(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(q): Query<FeedQuery>,
    credential: Option<Extension<Credential>>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    known_pipeline(&engine, &name)?;
    let after = last_event_id(&headers).or(q.after);
    let feed = pipeline_feed(engine.clone(), name, after);
    Ok(sse_of(guard(engine, credential.map(|c| c.0), feed)))
}

/// `GET /v1/pipelines/{name}/ws`: the pipeline's feed over WebSocket.
pub async fn pipeline_websocket(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(q): Query<FeedQuery>,
    credential: Option<Extension<Credential>>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    known_pipeline(&engine, &name)?;
    let feed = pipeline_feed(engine.clone(), name, q.after);
    let rx = guard(engine, credential.map(|c| c.0), feed);
    Ok(upgrade.on_upgrade(move |socket| forward_items(socket, rx)))
}

fn sse_event(item: &FeedItem) -> Event {
    let event = Event::default()
        .event(item.kind)
        .data(item.data.to_string());
    match item.seq {
        Some(seq) => event.id(seq.to_string()),
        None => event,
    }
}

/// `GET /v1/runs/{id}/ws`: the feed over WebSocket, one JSON text message per
/// item: `{"seq": N|null, "kind": "...", "data": {...}}`.
pub async fn websocket(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(q): Query<FeedQuery>,
    credential: Option<Extension<Credential>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let feed = run_feed(engine.clone(), id, q.after.unwrap_or(0));
    let rx = guard(engine, credential.map(|c| c.0), feed);
    upgrade.on_upgrade(move |socket| forward_items(socket, rx))
}

async fn forward_items(mut socket: WebSocket, mut rx: tokio::sync::mpsc::Receiver<FeedItem>) {
    while let Some(item) = rx.recv().await {
        // A client that stopped reading is let go, as in the guard.
        let sent = tokio::time::timeout(STALLED_AFTER, socket.send(Message::Text(item.ws_text())));
        if !matches!(sent.await, Ok(Ok(()))) {
            return;
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}
