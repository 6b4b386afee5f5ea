//! Test harness: starts the real `sluice` binary on a free port with its own
//! data directory and waits for its `ready:` line (never a sleep).

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const SLUICE: &str = env!("CARGO_BIN_EXE_sluice");

/// A running `sluice up`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub api: String,
    /// The S3 endpoint of the project's buckets.
    pub s3: String,
    pub project: PathBuf,
    pub data_dir: PathBuf,
}

impl Server {
    /// Starts `sluice up PROJECT` with a short lease timeout so crash recovery is quick.
    pub fn start(project: &Path, data_dir: &Path) -> Server {
        Self::start_with(project, data_dir, &[], &[], Stdio::inherit())
    }

    /// Starts `sluice up` with extra global arguments, extra `up` arguments and the given stderr.
    pub fn start_with(
        project: &Path,
        data_dir: &Path,
        extra: &[&str],
        up_extra: &[&str],
        stderr: Stdio,
    ) -> Server {
        Self::start_env(project, data_dir, extra, up_extra, stderr, &[])
    }

    /// [`Server::start_with`] plus environment variables for `sluice up`.
    pub fn start_env(
        project: &Path,
        data_dir: &Path,
        extra: &[&str],
        up_extra: &[&str],
        stderr: Stdio,
        envs: &[(&str, &str)],
    ) -> Server {
        let mut child = Command::new(SLUICE)
            .args(extra)
            .arg("up")
            .arg(project)
            .arg("--data-dir")
            .arg(data_dir)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--s3-listen",
                "127.0.0.1:0",
                "--lease-timeout",
                "2s",
            ])
            .args(up_extra)
            .env("RUST_LOG", "info")
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start sluice up");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut s3 = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.trim_start().strip_prefix("s3 ") {
                    s3 = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                }
                if let Some(api) = line.strip_prefix("ready: ") {
                    let _ = tx.send((api.to_string(), s3.clone()));
                }
            }
        });
        let (api, s3) = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(found) => found,
            Err(_) => {
                let _ = child.kill();
                panic!("sluice up did not print its ready line within 60s");
            }
        };
        Server {
            child,
            api,
            s3,
            project: project.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// Runs a CLI command against this server.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(SLUICE)
            .arg("--api")
            .arg(&self.api)
            .args(args)
            .current_dir(&self.project)
            .output()
            .expect("run sluice")
    }

    /// Runs a CLI command with `--json` and parses its stdout; panics on failure.
    pub fn cli_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.cli(&all);
        assert!(
            out.status.success(),
            "sluice {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "sluice {args:?} printed non-JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    pub fn get(&self, path: &str) -> Value {
        http("GET", &format!("{}{path}", self.api), None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Value {
        http("POST", &format!("{}{path}", self.api), Some(body))
    }

    /// Waits (by long-polling the API) until the run is terminal; returns it.
    pub fn wait_run(&self, run_id: &str) -> Value {
        for _ in 0..30 {
            let run = self.get(&format!("/v1/runs/{run_id}?wait=10"));
            if matches!(
                run["status"].as_str(),
                Some("succeeded" | "failed" | "cancelled")
            ) {
                return run;
            }
        }
        panic!("run {run_id} did not finish within 300s");
    }

    /// The messages waiting in `queue`, polled through the API (each poll a
    /// real request, not a sleep standing in for one) until there are at
    /// least `n`; at most 30 s.
    pub fn wait_for_messages(&self, queue: &str, n: usize) -> Vec<Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let found = self
                .get(&format!("/v1/queues/{queue}/messages"))
                .as_array()
                .cloned()
                .unwrap_or_default();
            if found.len() >= n {
                return found;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "queue `{queue}` has {} of {n} messages",
                found.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The id of the first run of `target`, once one exists (triggers start
    /// runs on their own, so there is no id to wait on yet); at most 20 s.
    pub fn first_run_of(&self, target: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(id) = self.get(&format!("/v1/runs?target={target}"))[0]["id"].as_str() {
                return id.to_string();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no run of `{target}` started within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// kill -9.
    pub fn kill(mut self) {
        self.child.kill().expect("kill sluice");
        self.child.wait().expect("reap sluice");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal blocking HTTP/1.1 client over std, so tests need no extra crates.
pub fn http(method: &str, url: &str, body: Option<&Value>) -> Value {
    http_with_headers(method, url, body, &[]).1
}

/// Like [`http`], with extra header lines; returns the status code too.
pub fn http_with_headers(
    method: &str,
    url: &str,
    body: Option<&Value>,
    headers: &[String],
) -> (u16, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    http_raw(method, url, &body, headers)
}

/// Sends `body` as it is (JSON or not); returns the status and the JSON answer.
#[allow(dead_code)]
pub fn http_raw(method: &str, url: &str, body: &str, headers: &[String]) -> (u16, Value) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(host).expect("connect to sluice");
    let typed = headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("content-type:"));
    let content_type = if typed {
        ""
    } else {
        "Content-Type: application/json\r\n"
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n{}\r\n{body}",
        body.len(),
        headers.iter().map(|h| format!("{h}\r\n")).collect::<String>()
    );
    stream.write_all(request.as_bytes()).expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let (head, body) = response.split_once("\r\n\r\n").expect("http response");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let value: Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("non-JSON answer to {method} {url} ({e}): {head}\n{body}"));
    (status, value)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

/// Writes a project directory with the given sluice.yaml and extra files.
pub fn project(dir: &Path, yaml: &str, files: &[(&str, &str)]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("sluice.yaml"), yaml).unwrap();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir.to_path_buf()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
