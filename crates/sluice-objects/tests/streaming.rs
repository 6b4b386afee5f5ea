//! Objects are streamed: a large single PUT and GET through the S3 endpoint
//! keep the server's memory bounded. The server runs in this test process
//! and the client (boto3) in another, so this process's peak resident size
//! measures the server alone.

mod common;

use std::path::Path;

/// Size of the object: large enough that buffering it would show.
const OBJECT_MIB: u64 = 300;
/// Allowed growth of the peak resident size while it streams.
const MAX_GROWTH_MIB: u64 = 96;

/// Peak resident set size of this process (`VmHWM`), in MiB.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmHWM value");
    kib / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_object_streams_with_bounded_memory() {
    let endpoint = common::start(&[("large", false)]).await;
    let before = peak_rss_mib();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/large_object.py");
    let home = endpoint.data_dir.path().join("client-home");
    let output = tokio::process::Command::new("python3")
        .arg(script)
        .args(["large", "big object.bin", &OBJECT_MIB.to_string()])
        .env("S3_ENDPOINT", endpoint.url())
        .env("AWS_ACCESS_KEY_ID", common::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", common::SECRET_ACCESS_KEY)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .output()
        .await
        .expect("run python3");
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let growth = peak_rss_mib().saturating_sub(before);
    println!("peak memory grew by {growth} MiB while streaming {OBJECT_MIB} MiB");
    assert!(
        growth < MAX_GROWTH_MIB,
        "the server's peak memory grew by {growth} MiB for a {OBJECT_MIB} MiB object"
    );
    let version = endpoint
        .service
        .head_object("large", "big object.bin", &Default::default())
        .await
        .unwrap();
    assert_eq!(version.size, OBJECT_MIB * 1024 * 1024);
    endpoint.stop().await;
}
