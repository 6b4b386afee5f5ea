//! Live progress of a run over Server-Sent Events and WebSocket, in order,
//! with a resume position so a reconnecting client misses nothing.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;

fn quickstart() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/quickstart")
        .canonicalize()
        .unwrap()
}

/// Reads a whole SSE response (the feed ends with the run) into (id, event, data).
fn sse(api: &str, path: &str, last_event_id: Option<i64>) -> Vec<(Option<i64>, String, Value)> {
    let host = api.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(host).unwrap();
    let resume = last_event_id
        .map(|id| format!("Last-Event-ID: {id}\r\n"))
        .unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n{resume}Connection: close\r\n\r\n").unwrap();
    let mut events = Vec::new();
    let (mut id, mut event, mut data) = (None, String::new(), String::new());
    for line in BufReader::new(stream).lines().map_while(Result::ok) {
        // Chunk-size lines of the chunked encoding are not SSE fields; skip them.
        if let Some(v) = line
            .strip_prefix("id: ")
            .or_else(|| line.strip_prefix("id:"))
        {
            id = v.trim().parse().ok();
        } else if let Some(v) = line
            .strip_prefix("event: ")
            .or_else(|| line.strip_prefix("event:"))
        {
            event = v.trim().to_string();
        } else if let Some(v) = line
            .strip_prefix("data: ")
            .or_else(|| line.strip_prefix("data:"))
        {
            data.push_str(v);
        } else if line.is_empty() && !data.is_empty() {
            events.push((
                id.take(),
                std::mem::take(&mut event),
                serde_json::from_str(&data).unwrap(),
            ));
            data.clear();
        }
    }
    events
}

#[test]
fn sse_streams_status_and_logs_in_order_and_resumes() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&quickstart(), data.path());
    let accepted = server.post("/v1/pipelines/welcome/runs", &json!({ "name": "Sol" }));
    let run_id = accepted["run_id"].as_str().unwrap();
    let events = sse(&server.api, &format!("/v1/runs/{run_id}/events"), None);

    let statuses: Vec<&str> = events
        .iter()
        .filter(|e| e.1 == "status")
        .map(|e| e.2["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses.last(),
        Some(&"succeeded"),
        "the feed ends with the final status: {events:?}"
    );
    let logs: Vec<&(Option<i64>, String, Value)> = events.iter().filter(|e| e.1 == "log").collect();
    let lines: Vec<&str> = logs.iter().map(|e| e.2["line"].as_str().unwrap()).collect();
    let greet = lines
        .iter()
        .position(|l| *l == "greeting Sol")
        .expect("handler line");
    let shout = lines
        .iter()
        .position(|l| *l == "shouting")
        .expect("second phase line");
    assert!(greet < shout, "in order: {lines:?}");
    let ids: Vec<i64> = logs.iter().map(|e| e.0.unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");

    let resumed = sse(
        &server.api,
        &format!("/v1/runs/{run_id}/events"),
        Some(ids[0]),
    );
    let resumed_ids: Vec<i64> = resumed
        .iter()
        .filter(|e| e.1 == "log")
        .map(|e| e.0.unwrap())
        .collect();
    assert_eq!(
        resumed_ids,
        ids[1..],
        "resuming after the first line sends exactly the rest"
    );
}

/// Reads one server-to-client WebSocket frame (unmasked): (opcode, payload).
fn read_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).unwrap();
    let len = match head[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            stream.read_exact(&mut b).unwrap();
            u16::from_be_bytes(b) as usize
        }
        127 => {
            let mut b = [0u8; 8];
            stream.read_exact(&mut b).unwrap();
            u64::from_be_bytes(b) as usize
        }
        n => n as usize,
    };
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).unwrap();
    (head[0] & 0x0f, payload)
}

#[test]
fn websocket_streams_the_same_feed() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&quickstart(), data.path());
    let accepted = server.post("/v1/functions/greet/invoke", &json!({ "name": "Wes" }));
    let run_id = accepted["run_id"].as_str().unwrap();
    let host = server.api.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET /v1/runs/{run_id}/ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(
        String::from_utf8_lossy(&head).starts_with("HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let mut items = Vec::new();
    loop {
        let (opcode, payload) = read_frame(&mut stream);
        if opcode == 0x8 {
            break;
        }
        items.push(serde_json::from_slice::<Value>(&payload).unwrap());
    }
    assert_eq!(
        items.last().unwrap()["data"]["status"],
        "succeeded",
        "{items:?}"
    );
    assert!(
        items
            .iter()
            .any(|i| i["kind"] == "log" && i["data"]["line"] == "greeting Wes"),
        "{items:?}"
    );
}

#[test]
fn watch_follows_a_run_to_its_end() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&quickstart(), data.path());
    let accepted = server.post("/v1/pipelines/welcome/runs", &json!({ "name": "Ray" }));
    let run_id = accepted["run_id"].as_str().unwrap();
    let out = server.cli(&["watch", run_id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("greeting Ray") && text.contains("shouting"),
        "{text}"
    );
    assert!(
        stderr(&out).contains(&format!("run {run_id} succeeded")),
        "{}",
        stderr(&out)
    );
}
