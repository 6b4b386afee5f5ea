//! Buckets through the real binary: `aws s3 cp` into a bucket triggers a
//! pipeline within milliseconds; the handler receives the AWS-shaped S3
//! event; a built-in `move` step archives the object with no code.

mod common;

use common::*;
use serde_json::Value;
use std::process::Command;

const PROJECT: &str = r#"
version: 1
buckets:
  inbound: {}
  archive: { versioning: true }
functions:
  inspect:
    run: cat
pipelines:
  ingest:
    phases:
      - name: inspect
        function: inspect
      - name: archive
        uses: move
        # The source is the object of the S3 event the pipeline was given.
        with:
          to_bucket: archive
          to_prefix: done/
triggers:
  csv-dropped:
    bucket: { name: inbound, prefix: incoming/, suffix: .csv }
    target:
      pipeline: ingest
      input: { Records: "$.Records", key: "$.Records.0.s3.object.key" }
"#;

/// Makes sure the aws CLI is there (installing it from PyPI if not; failing loudly otherwise).
fn ensure_aws_cli() {
    if Command::new("aws")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return;
    }
    let installed = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "awscli"])
        .status();
    assert!(
        installed.is_ok_and(|s| s.success()),
        "the aws CLI is missing and `pip install awscli` failed"
    );
}

fn aws(server: &Server, args: &[&str]) -> std::process::Output {
    let credentials: Value = serde_json::from_slice(
        &std::fs::read(server.data_dir.join("s3-credentials.json")).unwrap(),
    )
    .unwrap();
    let key = &credentials[0];
    Command::new("aws")
        .arg("--endpoint-url")
        .arg(&server.s3)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", key["access_key_id"].as_str().unwrap())
        .env(
            "AWS_SECRET_ACCESS_KEY",
            key["secret_access_key"].as_str().unwrap(),
        )
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run the aws CLI")
}

#[test]
fn an_upload_triggers_a_pipeline_that_sees_the_s3_event_and_archives_the_object() {
    ensure_aws_cli();
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let file = tmp.path().join("grades.csv");
    std::fs::write(&file, "student_id,course\nA1,Physics\n").unwrap();

    let ignored = aws(
        &server,
        &[
            "s3",
            "cp",
            file.to_str().unwrap(),
            "s3://inbound/other/grades.csv",
        ],
    );
    assert!(
        ignored.status.success(),
        "{}",
        String::from_utf8_lossy(&ignored.stderr)
    );
    let put = aws(
        &server,
        &[
            "s3",
            "cp",
            file.to_str().unwrap(),
            "s3://inbound/incoming/spring term.csv",
        ],
    );
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );

    let run_id = server.first_run_of("ingest");
    let run = server.wait_run(&run_id);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["trigger"], "bucket:inbound");
    let record = &run["steps"][0]["output"]["Records"][0];
    assert_eq!(record["eventSource"], "aws:s3");
    assert_eq!(record["eventName"], "ObjectCreated:Put");
    assert_eq!(record["s3"]["bucket"]["name"], "inbound");
    assert_eq!(
        record["s3"]["object"]["key"], "incoming/spring+term.csv",
        "keys are URL-encoded with + for spaces"
    );
    assert_eq!(record["s3"]["object"]["size"], 29);
    assert_eq!(run["output"]["key"], "done/incoming/spring term.csv");

    let archived = aws(&server, &["s3", "ls", "--recursive", "s3://archive/"]);
    assert!(
        String::from_utf8_lossy(&archived.stdout).contains("done/incoming/spring term.csv"),
        "{archived:?}"
    );
    let inbound = aws(&server, &["s3", "ls", "--recursive", "s3://inbound/"]);
    let listing = String::from_utf8_lossy(&inbound.stdout).into_owned();
    assert!(
        !listing.contains("spring term.csv") && listing.contains("other/grades.csv"),
        "moved away, the other kept: {listing}"
    );
    assert_eq!(
        server
            .get("/v1/runs?target=ingest")
            .as_array()
            .unwrap()
            .len(),
        1,
        "the object outside the prefix triggered nothing"
    );
}

const READER: &str = r#"
import json, sys
from urllib.parse import unquote_plus
import boto3
from botocore.exceptions import ClientError
record = json.load(sys.stdin)["Records"][0]["s3"]
key = unquote_plus(record["object"]["key"])
s3 = boto3.client("s3")
body = s3.get_object(Bucket=record["bucket"]["name"], Key=key)["Body"].read()
s3.put_object(Bucket="archive", Key=key, Body=body)
def refused(call):
    try:
        call()
        return "allowed"
    except ClientError as e:
        return e.response["Error"]["Code"]
print(json.dumps({
    "key": key,
    "body": body.decode(),
    "write_inbound": refused(lambda: s3.put_object(Bucket="inbound", Key="x", Body=b"x")),
    "read_secrets": refused(lambda: s3.get_object(Bucket="secrets", Key="plans.txt")),
}))
"#;

/// A handler triggered by `aws s3 cp` reads the object back with boto3 and
/// no configuration: Sluice gives it `AWS_ENDPOINT_URL` and credentials that
/// allow exactly its `permissions`, and refuses everything else.
#[test]
fn a_triggered_handler_uses_its_scoped_credentials_with_boto3() {
    ensure_aws_cli();
    let out = Command::new("python3")
        .args(["-c", "import sys, boto3; print(sys.executable)"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "boto3 is needed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let python = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let yaml = format!(
        r#"
version: 1
buckets:
  inbound: {{}}
  archive: {{}}
  secrets: {{}}
functions:
  reader:
    run: ["{python}", "reader.py"]
    permissions: {{ buckets: {{ inbound: read, archive: write }} }}
triggers:
  dropped:
    bucket: {{ name: inbound }}
    target: {{ function: reader }}
"#
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), &yaml, &[("reader.py", READER)]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let file = tmp.path().join("note.txt");
    std::fs::write(&file, "hello from a bucket").unwrap();
    let put = aws(
        &server,
        &[
            "s3",
            "cp",
            file.to_str().unwrap(),
            "s3://inbound/notes/a note.txt",
        ],
    );
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    let run_id = server.first_run_of("reader");
    let run = server.wait_run(&run_id);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(
        run["output"],
        serde_json::json!({
            "key": "notes/a note.txt",
            "body": "hello from a bucket",
            "write_inbound": "AccessDenied",
            "read_secrets": "AccessDenied",
        })
    );
    let archived = aws(&server, &["s3", "ls", "--recursive", "s3://archive/"]);
    assert!(
        String::from_utf8_lossy(&archived.stdout).contains("notes/a note.txt"),
        "the granted write landed"
    );
}

const BUS_PROJECT: &str = r#"
version: 1
buckets:
  landing: { versioning: true }
  quiet: {}
queues:
  uploads: {}
  deletions: {}
rules:
  big-csv-uploads:
    pattern:
      source: [sluice.objects]
      detail-type: [Object Created]
      detail:
        bucket: { name: [landing] }
        object: { key: [{ suffix: .csv }], size: [{ numeric: [">", 10] }] }
    targets: [{ queue: uploads }]
  deletions:
    pattern: { source: [sluice.objects], detail-type: [Object Deleted] }
    targets: [{ queue: deletions }]
"#;

/// The bodies of the messages in `queue`, once there are at least `n`.
fn queue_bodies(server: &Server, queue: &str, n: usize) -> Vec<Value> {
    server
        .wait_for_messages(queue, n)
        .iter()
        .map(|m| m["body"].clone())
        .collect()
}

#[test]
fn object_changes_reach_bus_rules_with_the_shape_eventbridge_gives_s3_events() {
    ensure_aws_cli();
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), BUS_PROJECT, &[]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let small = tmp.path().join("small.csv");
    std::fs::write(&small, "a\n").unwrap();
    let big = tmp.path().join("big.csv");
    std::fs::write(&big, "id,name\n1,Ada\n2,Grace\n").unwrap();
    let cp = |file: &std::path::Path, to: &str| {
        let out = aws(&server, &["s3", "cp", file.to_str().unwrap(), to]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Filtered out by the rule: too small, wrong suffix, wrong bucket.
    cp(&small, "s3://landing/small.csv");
    cp(&big, "s3://landing/big.txt");
    cp(&big, "s3://quiet/big.csv");
    cp(&big, "s3://landing/in/big one.csv");

    let uploads = queue_bodies(&server, "uploads", 1);
    let event = &uploads[0];
    assert_eq!(event["source"], "sluice.objects");
    assert_eq!(event["detail-type"], "Object Created");
    assert_eq!(event["detail"]["bucket"]["name"], "landing");
    assert_eq!(event["detail"]["object"]["key"], "in/big one.csv");
    assert_eq!(event["detail"]["object"]["size"], 22);
    assert_eq!(event["detail"]["reason"], "PutObject");
    assert!(
        event["detail"]["object"]["version-id"].is_string(),
        "{event}"
    );

    let rm = aws(&server, &["s3", "rm", "s3://quiet/big.csv"]);
    assert!(
        rm.status.success(),
        "{}",
        String::from_utf8_lossy(&rm.stderr)
    );
    let deletions = queue_bodies(&server, "deletions", 1);
    assert_eq!(deletions[0]["detail-type"], "Object Deleted");
    assert_eq!(deletions[0]["detail"]["bucket"]["name"], "quiet");
    assert_eq!(deletions[0]["detail"]["object"]["key"], "big.csv");
    // Events are relayed in order, so by the time the deletion arrived every
    // earlier upload had been matched: only the one that fits the rule is there.
    assert_eq!(queue_bodies(&server, "uploads", 1).len(), 1, "{uploads:?}");
}
