//! The event bus and HTTP triggers through the real binary: rules route
//! events by content with input transformation, event triggers fire, and
//! HTTP triggers answer 202 at once, guarded by bearer tokens.

mod common;

use common::*;
use serde_json::json;

const PROJECT: &str = r#"
version: 1
functions:
  record:
    run: cat
    idempotency_window: 1h
queues:
  audit: {}
rules:
  big-orders:
    pattern:
      source: [shop]
      detail-type: [order]
      detail: { amount: [{ numeric: [">", 100] }] }
    targets:
      - function: record
        input: { order: "$.detail.id", note: "big order <$.detail.id>" }
      - queue: audit
triggers:
  refunds:
    event: { pattern: { detail-type: [{ prefix: refund }] } }
    target: { function: record }
  submit:
    http: { path: /tasks/record }
    auth: { tokens: [s3cret-token] }
    target: { function: record }
"#;

fn put(server: &Server, detail_type: &str, detail: serde_json::Value) -> serde_json::Value {
    let body =
        json!({ "entries": [{ "source": "shop", "detail-type": detail_type, "detail": detail }] });
    server.post("/v1/events", &body)["entries"][0].clone()
}

#[test]
fn rules_route_events_by_content_with_input_transformation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[]);
    let server = Server::start(&dir, &tmp.path().join("data"));

    let big = put(&server, "order", json!({ "id": 7, "amount": 150 }));
    let deliveries = big["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 2, "{big}");
    assert_eq!(deliveries[0]["source"], "rule:big-orders");
    let run = server.wait_run(deliveries[0]["run_id"].as_str().unwrap());
    assert_eq!(
        run["output"],
        json!({ "order": 7, "note": "big order 7" }),
        "transformed input reached the handler"
    );
    let audit = server.get("/v1/queues/audit/messages");
    assert_eq!(
        audit[0]["body"]["detail"]["id"], 7,
        "the queue target got the whole event: {audit}"
    );
    assert_eq!(audit[0]["body"]["source"], "shop");

    let small = put(&server, "order", json!({ "id": 8, "amount": 50 }));
    assert_eq!(small["deliveries"].as_array().unwrap().len(), 0, "{small}");

    let refund = put(&server, "refund.issued", json!({ "id": 9 }));
    assert_eq!(refund["deliveries"][0]["source"], "trigger:refunds");
    let run = server.wait_run(refund["deliveries"][0]["run_id"].as_str().unwrap());
    assert_eq!(
        run["output"]["detail-type"], "refund.issued",
        "an untransformed target gets the EventBridge-shaped event"
    );
    assert_eq!(run["output"]["detail"]["id"], 9);
}

#[test]
fn the_cli_publishes_events() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let out = server.cli(&[
        "events",
        "put",
        "--source",
        "shop",
        "--detail-type",
        "order",
        "--detail",
        r#"{"id":1,"amount":500}"#,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("2 deliveries") && text.contains("rule:big-orders -> run"),
        "{text}"
    );
}

#[test]
fn http_triggers_answer_202_and_check_tokens_and_idempotency_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let url = format!("{}/tasks/record", server.api);
    let call = |token: Option<&str>, key: Option<&str>| {
        let mut headers = vec![];
        if let Some(t) = token {
            headers.push(format!("Authorization: Bearer {t}"));
        }
        if let Some(k) = key {
            headers.push(format!("Idempotency-Key: {k}"));
        }
        http_with_headers("POST", &url, Some(&json!({ "task": "heavy" })), &headers)
    };
    let (status, _) = call(None, None);
    assert_eq!(status, 401);
    let (status, _) = call(Some("wrong"), None);
    assert_eq!(status, 403);
    let (status, first) = call(Some("s3cret-token"), Some("job-1"));
    assert_eq!(status, 202, "{first}");
    let (_, again) = call(Some("s3cret-token"), Some("job-1"));
    assert_eq!(
        again["run_id"], first["run_id"],
        "same idempotency key, same run"
    );
    assert_eq!(again["duplicate"], true);
    // The same key with another body is two tasks under one key: refused.
    let other = [
        "Authorization: Bearer s3cret-token".to_string(),
        "Idempotency-Key: job-1".to_string(),
    ];
    let (status, refused) =
        http_with_headers("POST", &url, Some(&json!({ "task": "light" })), &other);
    assert_eq!(status, 422, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("job-1") && message.contains(first["run_id"].as_str().unwrap()),
        "{message}"
    );
    // And through the API's own submission route.
    let api = format!("{}/v1/functions/record/invoke", server.api);
    let key = ["Idempotency-Key: api-1".to_string()];
    let (status, _) = http_with_headers("POST", &api, Some(&json!({ "n": 1 })), &key);
    assert_eq!(status, 202);
    let (status, same) = http_with_headers("POST", &api, Some(&json!({ "n": 1 })), &key);
    assert_eq!((status, &same["duplicate"]), (202, &json!(true)), "{same}");
    let (status, refused) = http_with_headers("POST", &api, Some(&json!({ "n": 2 })), &key);
    assert_eq!(status, 422, "{refused}");
    // Keys hold for the function's `idempotency_window`.
    let queue = server.get("/v1/queues/fn.record");
    assert_eq!(queue["definition"]["dedup_window_ms"], 3_600_000, "{queue}");
    let run = server.get(first["status_url"].as_str().unwrap());
    let run = server.wait_run(run["id"].as_str().unwrap());
    assert_eq!(run["output"], json!({ "task": "heavy" }));
    assert_eq!(run["trigger"], "http:submit");
}

#[test]
fn bad_events_are_refused_whole_with_a_reason_and_publish_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let url = format!("{}/v1/events", server.api);
    let order =
        json!({ "source": "shop", "detail-type": "order", "detail": { "id": 1, "amount": 500 } });

    let (status, answer) = http_raw("POST", &url, "{\"entries\": [\n  {\"source\": }", &[]);
    assert_eq!(status, 400, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("not valid JSON") && message.contains("line 2 column"),
        "{message}"
    );

    // The second entry is too large: the first, valid one is not published either.
    let huge = "x".repeat(1 << 20);
    let body = json!({ "entries": [order, { "source": "shop", "detail-type": "order", "detail": { "blob": huge } }] });
    let (status, answer) = http_with_headers("POST", &url, Some(&body), &[]);
    assert_eq!(status, 413, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("entries[1]: the event is") && message.contains("1 MiB"),
        "{message}"
    );

    let body = json!({ "entries": [order, { "source": "shop", "detail-type": "order", "detail": [1, 2] }] });
    let (status, answer) = http_with_headers("POST", &url, Some(&body), &[]);
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["error"]["message"],
        "entries[1]: `detail` must be a JSON object, not a list"
    );

    let many: Vec<_> = (0..101).map(|_| order.clone()).collect();
    let (status, answer) = http_with_headers("POST", &url, Some(&json!({ "entries": many })), &[]);
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than the 100"),
        "{answer}"
    );

    let runs = server.get("/v1/runs");
    assert_eq!(
        runs.as_array().map(Vec::len),
        Some(0),
        "no rejected request started anything: {runs}"
    );
    // And a good one still goes through.
    let delivered = server.post("/v1/events", &json!({ "entries": [order] }));
    assert_eq!(
        delivered["entries"][0]["deliveries"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_run_input_sent_without_a_json_content_type_is_still_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let url = format!("{}/v1/functions/record/invoke?wait=30", server.api);
    // What `curl -d` sends.
    let form = "Content-Type: application/x-www-form-urlencoded".to_string();
    let (status, run) = http_raw("POST", &url, r#"{"n": 5}"#, std::slice::from_ref(&form));
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["output"], json!({ "n": 5 }), "{run}");
    let (status, answer) = http_raw("POST", &url, "n=5", &[form]);
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{answer}"
    );
}

#[test]
fn an_event_recorded_but_not_routed_before_a_crash_is_routed_at_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[]);
    let data = tmp.path().join("data");
    let server = Server::start(&dir, &data);
    server.kill();
    // What a crash between recording an event and routing it leaves: the
    // event in the store, not marked routed (a minute old).
    let inserted = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys, time\n\
             db = sqlite3.connect(sys.argv[1])\n\
             db.execute(\"INSERT INTO events (id, at, source, detail_type, detail) VALUES ('evt_crashed', ?, 'shop', 'order', '{\\\"id\\\": 9, \\\"amount\\\": 900}')\", (int(time.time() * 1000) - 60000,))\n\
             db.commit()",
        ])
        .arg(data.join("state.db"))
        .output()
        .unwrap();
    assert!(inserted.status.success(), "{}", stderr(&inserted));

    let server = Server::start(&dir, &data);
    let run_id = server.first_run_of("record");
    let run = server.wait_run(&run_id);
    assert_eq!(
        run["output"],
        json!({ "order": 9, "note": "big order 9" }),
        "the rule's target got the event: {run}"
    );
    assert!(
        run["trigger"]
            .as_str()
            .unwrap()
            .starts_with("rule:big-orders"),
        "{run}"
    );
    let audit = server.wait_for_messages("audit", 1);
    assert_eq!(audit.len(), 1, "the queue target too: {audit:?}");
}
