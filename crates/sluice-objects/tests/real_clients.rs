//! The S3 endpoint driven by real clients — boto3 and the aws CLI — over
//! TCP, exactly as users drive it. Missing clients are installed with pip;
//! if that fails the test fails loudly (it never skips).

mod common;

use std::path::Path;
use std::sync::Once;

/// Installs boto3 and the aws CLI if they are missing, once per test binary.
fn ensure_clients() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if clients_present() {
            return;
        }
        let status = std::process::Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "boto3", "awscli"])
            .status()
            .expect("run pip: python3 must be installed");
        assert!(
            status.success(),
            "`pip install boto3 awscli` failed; these tests need both clients"
        );
    });
    assert!(
        clients_present(),
        "boto3 or the aws CLI is still missing after `pip install boto3 awscli`"
    );
}

fn clients_present() -> bool {
    let boto3 = std::process::Command::new("python3")
        .args(["-c", "import boto3"])
        .output();
    let aws = std::process::Command::new("aws").arg("--version").output();
    boto3.is_ok_and(|o| o.status.success()) && aws.is_ok_and(|o| o.status.success())
}

/// Runs a client script against `endpoint` with credentials and an isolated
/// AWS configuration (no ~/.aws), and fails with its output if it fails.
async fn run_script(endpoint: &common::TestEndpoint, script: &str) {
    let script_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(script);
    let home = endpoint.data_dir.path().join("client-home");
    std::fs::create_dir_all(&home).unwrap();
    let output = tokio::process::Command::new("python3")
        .arg(&script_path)
        .env("S3_ENDPOINT", endpoint.url())
        .env("AWS_ACCESS_KEY_ID", common::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", common::SECRET_ACCESS_KEY)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("HOME", &home)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .await
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    println!("{stdout}");
}

fn count(events: &[(String, String, String)], name: &str, key: &str) -> usize {
    events
        .iter()
        .filter(|(n, _, k)| n == name && k == key)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_suite() {
    ensure_clients();
    let endpoint = common::start(&[("plain", false), ("versioned", false)]).await;
    run_script(&endpoint, "boto3_suite.py").await;

    let events = common::pending_events(&endpoint.service).await;
    assert_eq!(
        count(&events, "ObjectCreated:Put", "events/once.txt"),
        1,
        "{events:?}"
    );
    assert_eq!(
        count(
            &events,
            "ObjectCreated:CompleteMultipartUpload",
            "big/multipart.bin"
        ),
        1
    );
    assert_eq!(count(&events, "ObjectCreated:Copy", "copies/copied.txt"), 1);
    assert!(
        events
            .iter()
            .all(|(_, _, k)| k != "events/aborted.bin" && k != "events/forged.txt"),
        "{events:?}"
    );
    assert_eq!(
        count(&events, "ObjectRemoved:DeleteMarkerCreated", "doc"),
        1
    );
    // Aborted and refused uploads left no blob: every blob belongs to a version.
    assert!(common::files_under(&endpoint.data_dir.path().join("objects/staging")).is_empty());
    endpoint.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cli_suite() {
    ensure_clients();
    let endpoint = common::start(&[("cli", false)]).await;
    run_script(&endpoint, "awscli_suite.py").await;
    let events = common::pending_events(&endpoint.service).await;
    assert_eq!(
        count(&events, "ObjectCreated:CompleteMultipartUpload", "big.bin"),
        1,
        "{events:?}"
    );
    assert_eq!(
        count(
            &events,
            "ObjectCreated:Put",
            "folder with spaces/file + plus ü.txt"
        ),
        1
    );
    endpoint.stop().await;
}
