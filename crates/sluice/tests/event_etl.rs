//! The `examples/event-etl` project (the seed article's event-driven ETL),
//! driven as its user would: a task submitted over the HTTP trigger with an
//! API token answers 202 with live URLs, and a real WebSocket client follows
//! the run, seeing every step's progress in order up to 100%.

mod common;

use common::*;
use futures::StreamExt;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use tokio_tungstenite::tungstenite::Message;

fn example() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/event-etl")
        .canonicalize()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_over_http_streams_progress_to_a_websocket_client() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&example(), data.path());
    let token = server.cli(&["token", "create", "web", "--pipeline", "etl"]);
    assert!(token.status.success(), "{}", stderr(&token));
    let token = stdout(&token).trim().to_string();

    let url = format!("{}/tasks/etl", server.api);
    let task = json!({ "task": "reindex", "records": 2000 });
    let (status, _) = http_with_headers("POST", &url, Some(&task), &[]);
    assert_eq!(status, 401, "the trigger wants a token");
    let bearer = [format!("Authorization: Bearer {token}")];
    let (status, accepted) = http_with_headers("POST", &url, Some(&task), &bearer);
    assert_eq!(status, 202, "{accepted}");
    for link in ["status_url", "logs_url", "events_url", "ws_url"] {
        assert!(accepted[link].as_str().is_some(), "{link} in {accepted}");
    }

    let ws_url = format!(
        "{}{}",
        server.api.replace("http://", "ws://"),
        accepted["ws_url"].as_str().unwrap()
    );
    let request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        ws_url.as_str(),
    )
    .unwrap();
    let mut request = request;
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("WebSocket connect");
    let mut items = Vec::new();
    while let Some(message) = socket.next().await {
        match message.expect("WebSocket frame") {
            Message::Text(text) => items.push(serde_json::from_str::<Value>(&text).unwrap()),
            Message::Close(_) => break,
            _ => {}
        }
    }

    let last = items.last().unwrap();
    assert_eq!(last["kind"], "status");
    assert_eq!(last["data"]["status"], "succeeded", "{last}");
    let output = &last["data"]["output"];
    assert_eq!(output["table"], "batches", "{output}");
    assert_eq!(output["status"], "loaded", "{output}");
    assert_eq!(output["written"], 8, "{output}");
    // The load phase wrote the table: one row per batch, every record counted.
    let rows = server.get("/v1/tables/batches/items?pk=reindex");
    let table_rows = rows["items"].as_array().expect("items");
    assert_eq!(table_rows.len(), 8, "{rows}");
    let loaded: i64 = table_rows.iter().map(|i| i["rows"].as_i64().unwrap()).sum();
    assert_eq!(loaded, 2000, "{rows}");
    assert_eq!(table_rows[0]["batch"], 0, "in key order: {rows}");
    let seqs: Vec<i64> = items.iter().filter_map(|i| i["seq"].as_i64()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "items arrive in order"
    );

    let mut progress: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    for item in items.iter().filter(|i| i["kind"] == "progress") {
        let report = &item["data"]["report"];
        // The run's own progress has no step.
        let step = item["data"]["step"].as_str().unwrap_or("(run)");
        progress.entry(step.to_string()).or_default().push((
            report["done"].as_u64().unwrap(),
            report["total"].as_u64().unwrap(),
        ));
    }
    let steps: Vec<&String> = progress.keys().collect();
    assert_eq!(
        steps.len(),
        10,
        "the run, 8 transform batches and the load: {steps:?}"
    );
    for (step, reports) in &progress {
        assert!(
            reports.windows(2).all(|w| w[0].0 < w[1].0),
            "{step}: progress in order: {reports:?}"
        );
        let (done, total) = *reports.last().unwrap();
        assert_eq!(done, total, "{step} reaches 100%: {reports:?}");
    }
    assert_eq!(progress["load"].last(), Some(&(8, 8)));
    assert_eq!(progress["transform[0]"].last(), Some(&(250, 250)));
    // The run's progress aggregates its three phases and the transform's
    // items, in percent, and reaches 100% only as the run succeeds.
    let run = &progress["(run)"];
    assert_eq!(run.last(), Some(&(100, 100)), "{run:?}");
    assert!(
        run.iter()
            .filter(|(done, _)| *done > 33 && *done < 67)
            .count()
            >= 2,
        "the transform's items move the run's progress: {run:?}"
    );
    let last_run_report = items
        .iter()
        .rposition(|i| i["kind"] == "progress" && i["data"]["step"].is_null())
        .unwrap();
    let succeeded = items
        .iter()
        .position(|i| i["kind"] == "status" && i["data"]["status"] == "succeeded")
        .unwrap();
    assert!(
        last_run_report < succeeded,
        "100% comes before the final status"
    );
}

#[test]
fn a_task_published_on_the_bus_is_routed_by_content_to_the_tasks_queue() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&example(), data.path());
    let publish = |detail: Value| {
        let body = json!({ "entries": [{ "source": "etl.tasks", "detail-type": "Task Submitted", "detail": detail }] });
        server.post("/v1/events", &body)["entries"][0]["deliveries"].clone()
    };
    let dry = publish(json!({ "task": "bulk", "records": 500, "dry_run": true }));
    assert_eq!(dry, json!([]), "a dry run matches no rule");
    let deliveries = publish(json!({ "task": "bulk", "records": 500 }));
    assert_eq!(
        deliveries[0]["source"], "rule:submitted-tasks",
        "{deliveries}"
    );
    let run = server.wait_run(deliveries[0]["run_id"].as_str().unwrap());
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["trigger"], "queue:tasks", "{run}");
    let rows = server.get("/v1/tables/batches/items?pk=bulk");
    assert_eq!(rows["items"].as_array().unwrap().len(), 2, "{rows}");
}
