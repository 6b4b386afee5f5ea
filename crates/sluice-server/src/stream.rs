//! The run feed's two transports: Server-Sent Events and WebSocket.

use crate::feed::{run_feed, FeedItem, KEEP_ALIVE};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::Response;
use futures::stream::Stream;
use serde::Deserialize;
use serde_json::json;
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
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let last_seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let after = last_seen.or(q.after).unwrap_or(0);
    let rx = run_feed(engine, id, after);
    let events = futures::stream::unfold(rx, |mut rx| async move {
        let item = rx.recv().await?;
        Some((Ok(sse_event(&item)), rx))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
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
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| forward(socket, engine, id, q.after.unwrap_or(0)))
}

async fn forward(mut socket: WebSocket, engine: Engine, run_id: String, after: i64) {
    let mut rx = run_feed(engine, run_id, after);
    while let Some(item) = rx.recv().await {
        let text = json!({ "seq": item.seq, "kind": item.kind, "data": item.data }).to_string();
        if socket.send(Message::Text(text.into())).await.is_err() {
            return;
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}
