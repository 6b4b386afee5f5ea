//! Serving the project's buckets for `sluice up`: the object service, the
//! S3-compatible endpoint, and the relay of object events to the engine.

use anyhow::{Context, Result};
use sluice_core::credentials::Issuer;
use sluice_engine::Engine;
use sluice_objects::{serve_s3, ObjectService, S3Credentials};
use sluice_spec::{Notification, Project, TriggerSource};
use std::path::Path;

/// Opens the buckets under `data_dir`, declares the project's buckets with
/// their notification rules (bucket triggers included, and the bus when a
/// rule wants object events), serves S3 and hands the buckets to the engine.
pub async fn serve(
    project: &Project,
    data_dir: &Path,
    listener: tokio::net::TcpListener,
    engine: &Engine,
    issuer: Issuer,
) -> Result<()> {
    let service = ObjectService::open(data_dir)
        .await
        .with_context(|| format!("cannot open the buckets under {}", data_dir.display()))?;
    let to_bus = engine.wants_object_events();
    for (name, bucket) in &project.buckets {
        let mut declared = bucket.clone();
        declared
            .notifications
            .extend(trigger_notifications(project, name));
        if to_bus {
            declared
                .notifications
                .push(sluice_engine::bus_notification());
        }
        service
            .declare_bucket(name, &declared)
            .await
            .with_context(|| format!("bucket `{name}`"))?;
    }
    service
        .create_buckets(&[(sluice_engine::plan::PAYLOAD_BUCKET, false)])
        .await
        .context("creating the bucket for events passed by reference")?;
    let (credentials, generated) =
        S3Credentials::load_or_generate(data_dir).context("S3 credentials")?;
    let credentials = credentials.with_issuer(issuer);
    if let Some(key) = generated {
        println!(
            "S3 credentials were generated and are shown only now (kept in {}):",
            data_dir.join(sluice_objects::CREDENTIALS_FILE).display()
        );
        println!("  AWS_ACCESS_KEY_ID={}", key.access_key_id);
        println!("  AWS_SECRET_ACCESS_KEY={}", key.secret_access_key);
    }
    let _relay = engine.attach_objects(service.clone());
    tokio::spawn(async move {
        if let Err(err) = serve_s3(listener, service, credentials, std::future::pending()).await {
            tracing::error!(error = %err, "the S3 endpoint stopped");
        }
    });
    Ok(())
}

/// `triggers: { NAME: { bucket: { name: B, ... } } }` as notification rules of B.
fn trigger_notifications(project: &Project, bucket: &str) -> Vec<Notification> {
    project
        .triggers
        .values()
        .filter_map(|trigger| match trigger.source() {
            Some(TriggerSource::Bucket(b)) if b.name == bucket => Some(Notification {
                events: b.events(),
                prefix: b.prefix.clone(),
                suffix: b.suffix.clone(),
                target: trigger.target.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// Where the root key of handlers' scoped credentials lives.
const ROOT_KEY_FILE: &str = "credentials.key";

/// The issuer of handlers' scoped credentials, from a root key kept in the
/// data directory (created at first start, readable by its owner only).
/// Deleting the file revokes every credential ever handed out.
pub fn credential_issuer(data_dir: &Path) -> Result<Issuer> {
    use std::io::Read;
    let path = data_dir.join(ROOT_KEY_FILE);
    if let Ok(key) = std::fs::read(&path) {
        return Ok(Issuer::new(key));
    }
    let mut key = vec![0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .context("reading random bytes for the credentials root key")?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut file, &key)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(Issuer::new(key))
}
