//! Seed 002 end to end with the `csv-to-table` example: `aws s3 cp` a valid
//! and an invalid CSV file; the valid rows become queryable, both files land
//! in archive/error with their reports, a real SMTP server receives the
//! summaries and an HTTP receiver the signed webhooks (the first of which it
//! refuses, so the retry is proven too).

mod common;

use common::*;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "webhook-test-secret";

/// Installs a Python package from PyPI if it is missing; fails loudly if it cannot.
fn ensure_python(module: &str, package: &str) {
    let present = |m: &str| {
        Command::new("python3")
            .args(["-c", &format!("import {m}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !present(module) {
        let status = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", package])
            .status()
            .expect("python3 must be installed");
        assert!(
            status.success() && present(module),
            "`pip install {package}` failed; this test needs it"
        );
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The SMTP sink, writing each mail into `dir`.
struct Smtp(std::process::Child);

impl Smtp {
    fn start(dir: &Path, port: u16) -> Smtp {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir)
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            format!("ready {port}"),
            "SMTP sink did not start"
        );
        Smtp(child)
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One webhook request as received.
#[derive(Debug, Clone)]
struct Hook {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Hook {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP receiver that answers 500 to the first request and 200 after.
fn webhook_receiver() -> (String, Arc<Mutex<Vec<Hook>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.trim().split_once(':') {
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            let length: usize = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let first = {
                let mut all = sink.lock().unwrap();
                all.push(Hook { headers, body });
                all.len() == 1
            };
            let status = if first {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (url, received)
}

fn aws(server: &Server, args: &[&str]) -> String {
    let out = Command::new("aws")
        .args(args)
        .args(["--endpoint-url", &server.s3])
        .env("AWS_ACCESS_KEY_ID", key(server, "access_key_id"))
        .env("AWS_SECRET_ACCESS_KEY", key(server, "secret_access_key"))
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("run aws");
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The generated S3 credentials Sluice stored at first start.
fn key(server: &Server, field: &str) -> String {
    let text = std::fs::read_to_string(server.data_dir.join("s3-credentials.json"))
        .expect("credentials file");
    let v: Value = serde_json::from_str(&text).unwrap();
    v[field]
        .as_str()
        .or_else(|| v[0][field].as_str())
        .expect(field)
        .to_string()
}

/// Runs of the pipeline, oldest first, once `count` exist and all finished.
fn finished_runs(server: &Server, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let runs = server.get("/v1/runs?target=load-students&limit=50");
        let mut runs: Vec<Value> = runs.as_array().unwrap().clone();
        if runs.len() >= count {
            runs.reverse();
            return runs
                .iter()
                .map(|r| server.wait_run(r["id"].as_str().unwrap()))
                .collect();
        }
        assert!(
            Instant::now() < deadline,
            "only {} runs of load-students after 60 s",
            runs.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn example_copy(root: &Path, smtp_port: u16) -> PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/csv-to-table");
    let yaml = std::fs::read_to_string(example.join("sluice.yaml")).unwrap();
    assert!(yaml.contains("port: 2525"));
    let dir = root.join("csv-to-table");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(
        dir.join("sluice.yaml"),
        yaml.replace("port: 2525", &format!("port: {smtp_port}")),
    )
    .unwrap();
    for file in ["students.csv", "bad-students.csv"] {
        std::fs::copy(example.join("data").join(file), dir.join("data").join(file)).unwrap();
    }
    dir
}

#[test]
fn csv_files_load_move_report_and_notify() {
    ensure_python("aiosmtpd", "aiosmtpd");
    ensure_python("awscli", "awscli");
    let tmp = tempfile::tempdir().unwrap();
    let mail_dir = tmp.path().join("mail");
    std::fs::create_dir_all(&mail_dir).unwrap();
    let smtp_port = free_port();
    let _smtp = Smtp::start(&mail_dir, smtp_port);
    let (hook_url, hooks) = webhook_receiver();
    let dir = example_copy(tmp.path(), smtp_port);
    let server = Server::start_env(
        &dir,
        &tmp.path().join("data"),
        &[],
        &[],
        Stdio::inherit(),
        &[
            ("CSV_WEBHOOK_URL", &hook_url),
            ("CSV_WEBHOOK_SECRET", SECRET),
        ],
    );

    let data = dir.join("data");
    aws(
        &server,
        &[
            "s3",
            "cp",
            data.join("students.csv").to_str().unwrap(),
            "s3://inbound/students.csv",
        ],
    );
    let good = finished_runs(&server, 1).remove(0);
    aws(
        &server,
        &[
            "s3",
            "cp",
            data.join("bad-students.csv").to_str().unwrap(),
            "s3://inbound/bad students ü.csv",
        ],
    );
    let runs = finished_runs(&server, 2);
    let bad = runs[1].clone();

    // The valid file: every row loaded, queryable, archived with its report.
    let load = &good["steps"][0]["output"];
    assert_eq!(good["status"], "succeeded", "{good}");
    assert_eq!(load["status"], "loaded", "{load}");
    assert_eq!(
        load["rows"],
        serde_json::json!({"read": 5, "loaded": 5, "rejected": 0})
    );
    let out = server.cli(&["table", "query", "students", "--pk", "S1001"]);
    let items: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0]["course"], "math");
    assert_eq!(items[1]["course"], "physics");
    assert_eq!(items[1]["first_name"], "Ada");
    let one = server.get("/v1/tables/students/items?pk=S1001&sk=physics");
    assert_eq!(one["count"], 1);

    // The invalid file (all-or-nothing): nothing loaded, every bad line reported.
    let load = &bad["steps"][0]["output"];
    assert_eq!(load["status"], "rejected", "{load}");
    assert_eq!(
        load["rows"],
        serde_json::json!({"read": 4, "loaded": 0, "rejected": 3})
    );
    let problems: Vec<(u64, &str)> = load["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        problems,
        vec![(3, "student_id"), (4, "first_name"), (5, "course")]
    );
    let untouched = server.get("/v1/tables/students/items?pk=S2001");
    assert_eq!(
        untouched["count"], 0,
        "all-or-nothing loaded a row: {untouched}"
    );

    // Files moved with their reports; nothing left in the inbound bucket.
    let archive = aws(&server, &["s3", "ls", "s3://archive/"]);
    assert!(
        archive.contains("students.csv\n") && archive.contains("students.csv.report.json"),
        "{archive}"
    );
    let errors = aws(&server, &["s3", "ls", "s3://errors/"]);
    for name in [
        "bad students ü.csv",
        "bad students ü.csv.report.json",
        "bad students ü.csv.rejects.csv",
    ] {
        assert!(
            errors.contains(name),
            "{name} missing from errors: {errors}"
        );
    }
    assert!(aws(&server, &["s3", "ls", "s3://inbound/"])
        .trim()
        .is_empty());
    let rejects = aws(
        &server,
        &[
            "s3",
            "cp",
            "s3://errors/bad students ü.csv.rejects.csv",
            "-",
        ],
    );
    assert!(
        rejects.starts_with("line,column,value,reason\n3,student_id,X2002,"),
        "{rejects}"
    );
    assert!(
        rejects.contains("5,course,astrology,\"`astrology` is not one of: biology"),
        "{rejects}"
    );

    // Two mails with the summaries.
    let mails: Vec<String> = wait_for("two mails", || {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&mail_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        found.sort();
        (found.len() >= 2).then(|| {
            found
                .iter()
                .map(|p| std::fs::read_to_string(p).unwrap())
                .collect()
        })
    });
    let loaded = mails
        .iter()
        .find(|m| m.contains("students.csv: loaded 5 rows"))
        .expect("mail for the valid file");
    assert!(
        loaded.contains("Rows: 5 read, 5 loaded, 0 rejected"),
        "{loaded}"
    );
    assert!(loaded.contains("X-Rcpt-To: registrar@example.edu"));
    let rejected = mails
        .iter()
        .find(|m| m.contains("REJECTED"))
        .expect("mail for the invalid file");
    assert!(rejected.contains("line 3, column student_id"), "{rejected}");
    assert!(
        rejected.contains(&format!(
            "Run: {}/v1/runs/{}",
            server.api,
            bad["id"].as_str().unwrap()
        )),
        "{rejected}"
    );

    // Webhooks: signed; the refused first delivery was retried.
    let hooks = wait_for("three webhook requests", || {
        let all = hooks.lock().unwrap().clone();
        (all.len() >= 3).then_some(all)
    });
    for hook in &hooks {
        let timestamp = hook.header("x-sluice-timestamp").expect("timestamp header");
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(&hook.body);
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hook.header("x-sluice-signature"),
            Some(format!("sha256={expected}").as_str())
        );
    }
    // The refused request was the first; its retry is the later request
    // with the same delivery id (another file's notification may come between).
    let retried = hooks[0].header("x-sluice-delivery").unwrap().to_string();
    let again: Vec<_> = hooks[1..]
        .iter()
        .filter(|h| h.header("x-sluice-delivery") == Some(retried.as_str()))
        .collect();
    assert_eq!(again.len(), 1, "one retry of the refused delivery");
    assert_eq!(
        hooks[0].body, again[0].body,
        "the retry carries the same message"
    );
    let notification = server.wait_run(&retried);
    assert_eq!(notification["status"], "succeeded");
    assert_eq!(notification["kind"], "notification");
    let attempts = notification["steps"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{notification}");
    assert!(
        attempts[0]["error"]
            .as_str()
            .unwrap()
            .contains("answered 500"),
        "{notification}"
    );

    // The same file dropped again: recognised, nothing changed, still archived.
    aws(
        &server,
        &[
            "s3",
            "cp",
            data.join("students.csv").to_str().unwrap(),
            "s3://inbound/students.csv",
        ],
    );
    let again = finished_runs(&server, 3).remove(2);
    assert_eq!(
        again["steps"][0]["output"]["status"], "already_loaded",
        "{again}"
    );
    assert_eq!(
        again["steps"][0]["output"]["prior_load"]["run_id"],
        good["id"]
    );
}

const ORDERED: &str = r#"
version: 1
buckets:
  inbound: {}
tables:
  students:
    columns:
      student_id: { type: string, required: true }
      course: { type: string, required: true }
      first_name: { type: string }
    key: { partition: student_id, sort: course }
pipelines:
  load-students:
    concurrency: 1
    phases:
      - name: load
        uses: csv-load
        with: { table: students, policy: load-valid }
triggers:
  dropped:
    bucket: { name: inbound, suffix: .csv }
    target: { pipeline: load-students }
"#;

/// Concurrency 1: files dropped at once are loaded one after another, in the
/// order they arrived, so the last file to arrive is the one whose value stays.
#[test]
fn concurrency_one_loads_files_strictly_in_arrival_order() {
    ensure_python("awscli", "awscli");
    let tmp = tempfile::tempdir().unwrap();
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    for i in 0..6 {
        let mut text = String::from("student_id,course,first_name\n");
        for n in 0..2000 {
            text.push_str(&format!("S{n:05},math,writer-{i}\n"));
        }
        std::fs::write(files.join(format!("batch-{i}.csv")), text).unwrap();
    }
    let dir = project(&tmp.path().join("p"), ORDERED, &[]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    aws(
        &server,
        &[
            "s3",
            "cp",
            files.to_str().unwrap(),
            "s3://inbound/",
            "--recursive",
        ],
    );
    let runs = finished_runs(&server, 6);
    for pair in runs.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            a["finished_at"].as_i64().unwrap() <= b["started_at"].as_i64().unwrap(),
            "runs overlapped: {} and {}",
            a["id"],
            b["id"]
        );
    }
    let last_key = runs[5]["steps"][0]["output"]["file"]["key"]
        .as_str()
        .unwrap()
        .to_string();
    let writer = last_key
        .trim_start_matches("batch-")
        .trim_end_matches(".csv");
    let item = server.get("/v1/tables/students/items?pk=S01999&sk=math");
    assert_eq!(
        item["items"][0]["first_name"],
        format!("writer-{writer}"),
        "{item}"
    );
}
