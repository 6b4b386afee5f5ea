//! API tokens through the real binary: `sluice token create` shows a secret
//! once, the API and HTTP triggers accept tokens in scope, and refuse
//! missing, unknown, expired and revoked tokens (401) and tokens out of scope (403).

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::Stdio;

const PROJECT: &str = r#"
version: 1
functions:
  echo:
    run: cat
pipelines:
  etl:
    phases:
      - { name: copy, function: echo }
  other:
    phases:
      - { name: copy, function: echo }
triggers:
  submit:
    http: { path: /tasks/etl }
    target: { pipeline: etl }
  partner:
    http: { path: /tasks/partner }
    auth: { tokens: [partner-secret] }
    target: { pipeline: other }
"#;

struct Call<'a> {
    server: &'a Server,
}

impl Call<'_> {
    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let headers: Vec<String> = token
            .map(|t| vec![format!("Authorization: Bearer {t}")])
            .unwrap_or_default();
        http_with_headers(
            method,
            &format!("{}{path}", self.server.api),
            body,
            &headers,
        )
    }

    fn status(&self, method: &str, path: &str, token: Option<&str>) -> u16 {
        self.send(method, path, token, Some(&json!({ "n": 1 }))).0
    }
}

fn cli_with_token(server: &Server, token: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(SLUICE)
        .arg("--api")
        .arg(&server.api)
        .args(args)
        .env("SLUICE_TOKEN", token)
        .current_dir(&server.project)
        .stderr(Stdio::piped())
        .output()
        .expect("run sluice")
}

#[test]
fn tokens_are_created_once_scoped_expired_and_revoked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[]);
    let data = tmp.path().join("data");
    let server = Server::start_with(&dir, &data, &[], &["--auth", "required"], Stdio::inherit());
    let call = Call { server: &server };
    let admin =
        std::fs::read_to_string(data.join("admin-token")).expect("sluice up keeps an admin token");
    let admin = admin.trim();

    // Health and the API description are public; the rest needs a token.
    assert_eq!(call.status("GET", "/v1/health", None), 200);
    let (status, body) = call.send("GET", "/v1/runs", None, None);
    assert_eq!(status, 401, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("sluice token create"));
    assert_eq!(
        call.status("GET", "/v1/runs", Some("sluice_tok_0000000000000000_zz")),
        401
    );
    assert_eq!(call.status("GET", "/v1/runs", Some(admin)), 200);

    // The CLI creates a token scoped to one pipeline; the secret is printed once.
    let out = cli_with_token(
        &server,
        admin,
        &["token", "create", "ci", "--pipeline", "etl"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let ci = stdout(&out).trim().to_string();
    assert!(ci.starts_with("sluice_tok_"), "{ci}");
    assert!(stderr(&out).contains("only time"), "{}", stderr(&out));
    let listed = cli_with_token(&server, admin, &["--json", "token", "list"]);
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let ci_entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci")
        .unwrap()
        .clone();
    assert_eq!(ci_entry["scope"], json!({ "pipelines": ["etl"] }));
    assert!(
        !listed.to_string().contains(&ci[ci.len() - 64..]),
        "a listing never shows a secret"
    );
    assert!(ci_entry.get("secret_hash").is_none(), "nor a hash");

    // In scope: its pipeline, its runs, its trigger. Out of scope: 403.
    let (status, accepted) = call.send(
        "POST",
        "/v1/pipelines/etl/runs",
        Some(&ci),
        Some(&json!({ "n": 1 })),
    );
    assert_eq!(status, 202, "{accepted}");
    let run_id = accepted["run_id"].as_str().unwrap();
    assert_eq!(
        call.status("GET", &format!("/v1/runs/{run_id}"), Some(&ci)),
        200
    );
    assert_eq!(call.status("GET", "/v1/runs?target=etl", Some(&ci)), 200);
    assert_eq!(call.status("POST", "/tasks/etl", Some(&ci)), 202);
    let (status, body) = call.send(
        "POST",
        "/v1/pipelines/other/runs",
        Some(&ci),
        Some(&json!({})),
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("pipeline `other`"),
        "{body}"
    );
    for (method, path) in [
        ("GET", "/v1/queues"),
        ("GET", "/v1/runs"),
        ("GET", "/v1/tokens"),
        ("POST", "/tasks/partner"),
    ] {
        assert_eq!(call.status(method, path, Some(&ci)), 403, "{method} {path}");
    }
    assert_eq!(
        call.status("POST", "/tasks/etl", None),
        401,
        "the API's rule covers triggers"
    );
    // A trigger's declared token still works, and so does an API token for all.
    assert_eq!(
        call.status("POST", "/tasks/partner", Some("partner-secret")),
        202
    );
    assert_eq!(
        call.status("POST", "/tasks/partner", Some("not-the-secret")),
        403
    );
    let all = cli_with_token(&server, admin, &["token", "create", "ops"]);
    let all = stdout(&all).trim().to_string();
    assert_eq!(call.status("POST", "/tasks/partner", Some(&all)), 202);
    assert_eq!(call.status("GET", "/v1/queues", Some(&all)), 200);
    assert_eq!(
        call.status("GET", "/v1/tokens", Some(&all)),
        403,
        "managing tokens needs admin"
    );

    // Expired: 401 with a message naming the token and when it expired.
    let (status, expired) = call.send(
        "POST",
        "/v1/tokens",
        Some(admin),
        Some(&json!({ "name": "old", "expires_at": 1000 })),
    );
    assert_eq!(status, 201, "{expired}");
    let (status, body) = call.send(
        "GET",
        "/v1/runs?target=etl",
        Some(expired["token"].as_str().unwrap()),
        None,
    );
    assert_eq!(status, 401, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("expired") && message.contains(expired["id"].as_str().unwrap()),
        "{message}"
    );

    // Revoked: 401 at once, everywhere.
    let out = cli_with_token(
        &server,
        admin,
        &["token", "revoke", ci_entry["id"].as_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (status, body) = call.send("POST", "/tasks/etl", Some(&ci), Some(&json!({})));
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{body}"
    );
    assert_eq!(
        call.status("GET", &format!("/v1/runs/{run_id}"), Some(&ci)),
        401
    );
}

#[test]
fn an_open_feed_ends_when_its_token_expires() {
    use std::io::{BufRead, BufReader, Write};
    let yaml = PROJECT
        .replace(
            "pipelines:\n",
            "pipelines:\n  slow:\n    phases:\n      - { name: wait, function: waiter }\n",
        )
        .replace(
            "functions:\n",
            "functions:\n  waiter:\n    run: sh -c 'while [ ! -f done ]; do sleep 0.05; done; cat'\n",
        );
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), &yaml, &[]);
    let data = tmp.path().join("data");
    let server = Server::start_with(&dir, &data, &[], &["--auth", "required"], Stdio::inherit());
    let call = Call { server: &server };
    let admin = std::fs::read_to_string(data.join("admin-token")).unwrap();
    let admin = admin.trim();
    let expires_at = sluice_core_now() + 3000;
    let (status, short) = call.send(
        "POST",
        "/v1/tokens",
        Some(admin),
        Some(&json!({ "name": "short", "expires_at": expires_at })),
    );
    assert_eq!(status, 201, "{short}");
    let (status, run) = call.send(
        "POST",
        "/v1/pipelines/slow/runs",
        Some(admin),
        Some(&json!({})),
    );
    assert_eq!(status, 202, "{run}");
    let run_id = run["run_id"].as_str().unwrap();

    let host = server.api.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET /v1/runs/{run_id}/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\r\n",
        short["token"].as_str().unwrap()
    )
    .unwrap();
    let mut lines = BufReader::new(stream).lines();
    let status_line = lines.next().unwrap().unwrap();
    assert!(status_line.contains(" 200 "), "{status_line}");
    let mut saw_error = None;
    let mut previous = String::new();
    while let Some(Ok(line)) = lines.next() {
        if previous.starts_with("event: error") && line.starts_with("data: ") {
            saw_error = Some(line);
            break;
        }
        previous = line;
    }
    let ended_at = sluice_core_now();
    let error = saw_error.expect("the feed ends with an error event");
    assert!(error.contains("expired"), "{error}");
    assert!(
        ended_at >= expires_at,
        "the feed ran until the token expired, not less"
    );
    std::fs::write(dir.join("done"), "").unwrap();
    let (_, run) = call.send(
        "GET",
        &format!("/v1/runs/{run_id}?wait=30"),
        Some(admin),
        None,
    );
    assert_eq!(run["status"], "succeeded", "{run}");
}

fn sluice_core_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
