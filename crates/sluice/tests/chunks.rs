//! Fan-out over the chunks of one large object: a JSON Lines file is cut
//! into line-aligned byte ranges, each handler reads only its range with
//! boto3 and finds whole records, and together they cover every line once.

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::Command;

fn python_with_boto3() -> String {
    let out = Command::new("python3")
        .args(["-c", "import sys, boto3; print(sys.executable)"])
        .output()
        .expect("python3");
    assert!(out.status.success(), "boto3 is needed: {}", stderr(&out));
    stdout(&out).trim().to_string()
}

const COUNT: &str = r#"import boto3, json, sys
chunk = json.load(sys.stdin)
last = chunk["offset"] + chunk["length"] - 1
body = boto3.client("s3").get_object(Bucket=chunk["bucket"], Key=chunk["key"], Range=f"bytes={chunk['offset']}-{last}")["Body"].read()
ids = [json.loads(line)["id"] for line in body.decode().splitlines()]
print(json.dumps({"index": chunk["index"], "count": chunk["count"], "lines": len(ids), "first": ids[0], "last": ids[-1], "bytes": len(body)}))
"#;

/// Uploads `body` to `bucket/key` through the S3 endpoint with boto3.
fn upload(server: &Server, python: &str, bucket: &str, key: &str, body: &str) {
    let credentials: Value = serde_json::from_slice(
        &std::fs::read(server.data_dir.join("s3-credentials.json")).unwrap(),
    )
    .unwrap();
    let script = format!(
        "import boto3, sys\nboto3.client('s3', endpoint_url='{}', aws_access_key_id='{}', aws_secret_access_key='{}', region_name='us-east-1').put_object(Bucket='{bucket}', Key='{key}', Body=sys.stdin.buffer.read())",
        server.s3,
        credentials[0]["access_key_id"].as_str().unwrap(),
        credentials[0]["secret_access_key"].as_str().unwrap(),
    );
    let mut child = Command::new(python)
        .args(["-c", &script])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), body.as_bytes()).unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success(), "upload failed");
}

#[test]
fn a_large_file_splits_into_line_aligned_chunks() {
    let python = python_with_boto3();
    let tmp = tempfile::tempdir().unwrap();
    let yaml = format!(
        r#"
version: 1
buckets:
  data: {{}}
functions:
  count:
    run: ["{python}", "count.py"]
    permissions: {{ buckets: {{ data: read }} }}
pipelines:
  split:
    phases:
      - name: count
        function: count
        fan_out: {{ over: {{ chunks: {{ bucket: data, key: "$.file", size: 64KiB }} }}, max_concurrency: 4 }}
"#
    );
    let dir = project(&tmp.path().join("p"), &yaml, &[("count.py", COUNT)]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    // Lines of uneven length, about 400 KB in all.
    let lines: Vec<String> = (0..5_000)
        .map(|id| json!({ "id": id, "pad": "x".repeat(id % 150) }).to_string())
        .collect();
    let body = lines.join("\n") + "\n";
    upload(&server, &python, "data", "events.jsonl", &body);

    let accepted = server.post(
        "/v1/pipelines/split/runs",
        &json!({ "file": "events.jsonl" }),
    );
    let run = server.wait_run(accepted["run_id"].as_str().unwrap());
    assert_eq!(run["status"], "succeeded", "{run}");
    let chunks = run["output"].as_array().unwrap();
    assert!(
        chunks.len() > 4,
        "about 400 KB in 64 KiB chunks: {}",
        chunks.len()
    );
    let mut next_id = 0;
    let mut bytes = 0;
    for (i, chunk) in chunks.iter().enumerate() {
        assert_eq!(chunk["index"], i);
        assert_eq!(chunk["count"], chunks.len());
        assert_eq!(
            chunk["first"], next_id,
            "chunk {i} starts where the previous ended: {chunk}"
        );
        next_id = chunk["last"].as_u64().unwrap() + 1;
        bytes += chunk["bytes"].as_u64().unwrap();
        assert!(
            chunk["bytes"].as_u64().unwrap() >= 64 * 1024 || i == chunks.len() - 1,
            "{chunk}"
        );
    }
    assert_eq!(next_id, 5_000, "every line in exactly one chunk");
    assert_eq!(
        bytes,
        body.len() as u64,
        "the chunks cover the object exactly"
    );
}
