//! Helpers for the Lambda runtime tests: the real clients (`awslambdaric` from
//! PyPI, installed if missing; the `lambda_runtime` example, built once), specs
//! for the fixtures, and calls with an in-memory sink.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use sluice_runtime::{HandlerRuntime, InvocationResult, LambdaRuntime, LambdaSpec, MemorySink};

use super::invocation;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The absolute path of the test environment's `python3` (handlers get a clean
/// `PATH`, which may find a different interpreter).
pub fn python() -> String {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let out = Command::new("python3")
                .args(["-c", "import sys; print(sys.executable)"])
                .output()
                .expect("python3 is needed for the Lambda tests");
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        })
        .clone()
}

/// Makes sure `python3 -m awslambdaric` works, installing it from PyPI if
/// needed. Panics (never skips) when that fails.
pub fn ensure_awslambdaric() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let importable = || {
            Command::new(python())
                .args(["-c", "import awslambdaric"])
                .status()
                .is_ok_and(|s| s.success())
        };
        if importable() {
            return;
        }
        let install = Command::new(python())
            .args(["-m", "pip", "install", "--quiet", "awslambdaric"])
            .status();
        assert!(
            install.is_ok_and(|s| s.success()) && importable(),
            "awslambdaric is not installed and `python3 -m pip install awslambdaric` failed; \
             the Lambda compatibility tests need it (network access to PyPI)"
        );
    });
}

/// Builds `examples/lambda-rust-handler` (release) once; returns its binary.
pub fn rust_handler_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let manifest = root.join("examples/lambda-rust-handler/Cargo.toml");
            let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lambda-rust-handler");
            let status = Command::new(env!("CARGO"))
                .args(["build", "--release", "--locked", "--manifest-path"])
                .arg(&manifest)
                .env("CARGO_TARGET_DIR", &target)
                .status()
                .expect("running cargo to build the lambda_runtime example");
            assert!(status.success(), "building {} failed", manifest.display());
            target.join("release/lambda-rust-handler")
        })
        .clone()
}

/// A spec for the `awslambdaric` fixture handler `app.handler`.
pub fn python_spec(name: &str) -> LambdaSpec {
    ensure_awslambdaric();
    let command = [&python(), "-m", "awslambdaric", "app.handler"];
    let mut spec = LambdaSpec::new(
        command.iter().map(|s| s.to_string()).collect(),
        fixtures(),
        name,
        "app.handler",
    );
    spec.timeout = Duration::from_secs(60);
    spec
}

/// A spec for the Rust `lambda_runtime` example.
pub fn rust_spec(name: &str) -> LambdaSpec {
    let binary = rust_handler_binary().display().to_string();
    let mut spec = LambdaSpec::new(vec![binary], fixtures(), name, "bootstrap");
    spec.timeout = Duration::from_secs(60);
    spec
}

/// A spec for the misbehaving raw client in `mode`.
pub fn raw_spec(mode: &str) -> LambdaSpec {
    let command = [&python(), "raw_runtime.py", mode];
    let mut spec = LambdaSpec::new(
        command.iter().map(|s| s.to_string()).collect(),
        fixtures(),
        format!("raw-{mode}"),
        "raw",
    );
    spec.timeout = Duration::from_secs(30);
    spec
}

/// One invocation with a fresh request id; returns the result and the logs.
pub async fn invoke(rt: &LambdaRuntime, payload: Value) -> (InvocationResult, Arc<MemorySink>) {
    invoke_within(rt, payload, Duration::from_secs(60)).await
}

pub async fn invoke_within(
    rt: &LambdaRuntime,
    payload: Value,
    within: Duration,
) -> (InvocationResult, Arc<MemorySink>) {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut inv = invocation(payload);
    inv.request_id = format!("req-{n}");
    inv.function = rt.spec().function_name.clone();
    inv.deadline = Instant::now() + within;
    let sink = Arc::new(MemorySink::new());
    let result = rt.invoke(inv, sink.clone()).await;
    (result, sink)
}
