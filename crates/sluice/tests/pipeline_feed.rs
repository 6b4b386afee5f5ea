//! The live feed of every run of a pipeline (SSE and WebSocket): status
//! changes, log lines and progress of all its runs, in one order, each with a
//! resume position, so a reconnecting client gets exactly what it missed.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const PROJECT: &str = r#"
version: 1
functions:
  work:
    run: sh work.sh
  other:
    run: cat
pipelines:
  etl:
    phases:
      - { name: transform, function: work }
  other:
    phases:
      - { name: copy, function: other }
"#;

const WORK: &str = r#"cat >/dev/null
for i in 1 2 3; do echo "SLUICE_PROGRESS {\"done\": $i, \"total\": 3}" >&2; done
echo "transformed" >&2
echo '{"ok": true}'
"#;

type Item = (Option<i64>, String, Value);

/// An open SSE connection read item by item.
struct Feed(BufReader<TcpStream>);

impl Feed {
    fn open(api: &str, path: &str, last_event_id: Option<i64>) -> Feed {
        let host = api.strip_prefix("http://").unwrap();
        let mut stream = TcpStream::connect(host).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let resume = last_event_id
            .map(|id| format!("Last-Event-ID: {id}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n{resume}\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.contains(" 200 "), "{status}");
        Feed(reader)
    }

    /// The next item (skipping keep-alives); panics after 30 s of silence.
    fn next(&mut self) -> Item {
        let (mut id, mut event, mut data) = (None, String::new(), String::new());
        loop {
            let mut line = String::new();
            self.0.read_line(&mut line).expect("the feed went silent");
            let line = line.trim_end_matches(['\r', '\n']);
            if let Some(v) = line.strip_prefix("id:") {
                id = v.trim().parse().ok();
            } else if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            } else if line.is_empty() && !data.is_empty() {
                return (id, event, serde_json::from_str(&data).unwrap());
            }
        }
    }

    /// Items until both `runs` have reported `succeeded`.
    fn until_succeeded(&mut self, runs: &[&str]) -> Vec<Item> {
        let mut items = Vec::new();
        let mut done = 0;
        while done < runs.len() {
            let item = self.next();
            if item.1 == "status"
                && item.2["status"] == "succeeded"
                && runs.contains(&item.2["run_id"].as_str().unwrap())
            {
                done += 1;
            }
            items.push(item);
        }
        items
    }
}

#[test]
fn a_pipeline_feed_carries_every_run_in_order_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[("work.sh", WORK)]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let mut feed = Feed::open(&server.api, "/v1/pipelines/etl/events", None);

    let first = server.post("/v1/pipelines/etl/runs", &json!({ "n": 1 }));
    let second = server.post("/v1/pipelines/etl/runs", &json!({ "n": 2 }));
    let unrelated = server.post("/v1/pipelines/other/runs", &json!({ "n": 3 }));
    let runs = [
        first["run_id"].as_str().unwrap(),
        second["run_id"].as_str().unwrap(),
    ];
    let items = feed.until_succeeded(&runs);

    assert!(
        items.iter().all(|i| i.2["run_id"] != unrelated["run_id"]),
        "only the pipeline's runs: {items:?}"
    );
    let ids: Vec<i64> = items.iter().filter_map(|i| i.0).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "positions increase: {ids:?}"
    );
    for run in runs {
        let of_run: Vec<&Item> = items.iter().filter(|i| i.2["run_id"] == run).collect();
        // Journaled changes carry a position; a run already queued or running when the
        // feed connected also shows up in its opening snapshot (no position).
        let statuses: Vec<&str> = of_run
            .iter()
            .filter(|i| i.1 == "status" && i.0.is_some())
            .map(|i| i.2["status"].as_str().unwrap())
            .collect();
        // A run that had already started when the feed took its position
        // shows `running` in the snapshot instead of in the journal.
        let started_before = of_run
            .iter()
            .any(|i| i.0.is_none() && i.2["status"] == "running");
        assert!(
            statuses == ["running", "succeeded"] || (started_before && statuses == ["succeeded"]),
            "{run}: {statuses:?} in {of_run:?}"
        );
        assert!(
            of_run
                .iter()
                .filter(|i| i.0.is_none())
                .all(|i| i.2["status"] == "queued" || i.2["status"] == "running"),
            "a snapshot says where an unfinished run stands: {of_run:?}"
        );
        let done: Vec<u64> = of_run
            .iter()
            .filter(|i| i.1 == "progress" && !i.2["step"].is_null())
            .map(|i| i.2["report"]["done"].as_u64().unwrap())
            .collect();
        assert_eq!(done, [1, 2, 3], "{run}: progress in order, to 100%");
        let percent: Vec<u64> = of_run
            .iter()
            .filter(|i| i.1 == "progress" && i.2["step"].is_null())
            .map(|i| i.2["report"]["done"].as_u64().unwrap())
            .collect();
        assert_eq!(
            percent,
            [33, 66, 99, 100],
            "{run}: the run's own progress follows its one step's, at 99% until the run is done"
        );
        assert!(
            of_run
                .iter()
                .any(|i| i.1 == "log" && i.2["line"] == "transformed"),
            "{run}: its log lines"
        );
        let last_progress = of_run.iter().rposition(|i| i.1 == "progress").unwrap();
        let end = of_run.iter().rposition(|i| i.1 == "status").unwrap();
        assert!(
            last_progress < end,
            "progress comes before the final status"
        );
    }

    // Reconnecting after any item yields exactly the items that followed it.
    let cut = items.len() / 2;
    let resume_at = items[..cut].iter().rev().find_map(|i| i.0).unwrap();
    let expected: Vec<&Item> = items
        .iter()
        .filter(|i| i.0.is_some_and(|id| id > resume_at))
        .collect();
    let mut resumed = Feed::open(&server.api, "/v1/pipelines/etl/events", Some(resume_at));
    let got: Vec<Item> = (0..expected.len()).map(|_| resumed.next()).collect();
    assert_eq!(
        got.iter().collect::<Vec<_>>(),
        expected,
        "resume after {resume_at}"
    );

    // The same feed over WebSocket, replayed from the start with ?after=0.
    let host = server.api.strip_prefix("http://").unwrap();
    let mut ws = TcpStream::connect(host).unwrap();
    ws.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        ws,
        "GET /v1/pipelines/etl/ws?after=0 HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        ws.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(String::from_utf8_lossy(&head).starts_with("HTTP/1.1 101"));
    let replay: Vec<Value> = (0..ids.len()).map(|_| read_text_frame(&mut ws)).collect();
    let replay_ids: Vec<i64> = replay.iter().map(|i| i["seq"].as_i64().unwrap()).collect();
    assert_eq!(replay_ids, ids, "the WebSocket replays the same positions");

    let (status, body) = http_with_headers(
        "GET",
        &format!("{}/v1/pipelines/nope/events", server.api),
        None,
        &[],
    );
    assert_eq!(status, 404, "{body}");
}

/// One unmasked text frame from the server, parsed as JSON.
fn read_text_frame(stream: &mut TcpStream) -> Value {
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
    assert_eq!(head[0] & 0x0f, 0x1, "a text frame");
    serde_json::from_slice(&payload).unwrap()
}

/// `sluice watch --pipeline NAME --json` prints the feed's items as they come.
#[test]
fn watch_follows_every_run_of_a_pipeline() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[("work.sh", WORK)]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let mut watch = std::process::Command::new(SLUICE)
        .args([
            "--api",
            &server.api,
            "--json",
            "watch",
            "--pipeline",
            "etl",
            "--after",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    // From position 0 the watcher sees the run whenever it connects.
    let accepted = server.post("/v1/pipelines/etl/runs", &json!({ "n": 1 }));
    let run_id = accepted["run_id"].as_str().unwrap().to_string();
    let mut seen = Vec::new();
    for line in lines.by_ref().map_while(Result::ok) {
        let item: Value = serde_json::from_str(&line).unwrap();
        let done = item["kind"] == "status"
            && item["data"]["status"] == "succeeded"
            && item["data"]["run_id"] == run_id.as_str();
        seen.push(item);
        if done {
            break;
        }
    }
    let _ = watch.kill();
    let _ = watch.wait();
    assert!(
        seen.iter()
            .any(|i| i["kind"] == "progress" && i["data"]["report"]["done"] == 3),
        "{seen:?}"
    );
}
