//! Many clients of one run's live feed at once: each gets every item, in
//! the same order, while the server reads the store once per change for
//! all of them rather than once per client.

mod common;

use common::*;
use futures::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const PROJECT: &str = r#"
version: 1
functions:
  report:
    run: sh report.sh
pipelines:
  broadcast:
    phases:
      - { name: report, function: report }
"#;

/// Waits until every subscriber is connected (the file `go`), then reports.
const REPORT: &str = r#"cat >/dev/null
while [ ! -f go ]; do sleep 0.02; done
for i in $(seq 1 30); do echo "SLUICE_PROGRESS {\"done\": $i, \"total\": 30}" >&2; sleep 0.01; done
echo '{}'
"#;

const SUBSCRIBERS: usize = 400;

#[tokio::test(flavor = "multi_thread")]
async fn every_subscriber_of_a_run_gets_every_item_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[("report.sh", REPORT)]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let accepted = server.post("/v1/pipelines/broadcast/runs", &json!({}));
    let ws_url = format!(
        "{}{}",
        server.api.replace("http://", "ws://"),
        accepted["ws_url"].as_str().unwrap()
    );
    let sockets: Vec<_> = futures::stream::iter(0..SUBSCRIBERS)
        .map(|_| {
            let url = ws_url.clone();
            async move {
                tokio_tungstenite::connect_async(url)
                    .await
                    .expect("connect")
                    .0
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|mut socket| {
            tokio::spawn(async move {
                let mut items: Vec<Value> = Vec::new();
                while let Some(Ok(message)) = socket.next().await {
                    if let Message::Text(text) = message {
                        items.push(serde_json::from_str(&text).unwrap());
                    }
                }
                items
            })
        })
        .collect();
    std::fs::write(dir.join("go"), "").unwrap();

    let mut first: Option<Vec<i64>> = None;
    for reader in readers {
        let items = reader.await.unwrap();
        let last = items.last().expect("items");
        assert_eq!(last["kind"], "status");
        assert_eq!(last["data"]["status"], "succeeded", "{last}");
        let reports: Vec<u64> = items
            .iter()
            .filter(|i| i["kind"] == "progress" && i["data"]["step"] == "report")
            .map(|i| i["data"]["report"]["done"].as_u64().unwrap())
            .collect();
        assert_eq!(
            reports,
            (1..=30).collect::<Vec<_>>(),
            "every report, in order"
        );
        let seqs: Vec<i64> = items.iter().filter_map(|i| i["seq"].as_i64()).collect();
        match &first {
            None => first = Some(seqs),
            Some(expected) => assert_eq!(&seqs, expected, "the same items for every client"),
        }
    }
}
