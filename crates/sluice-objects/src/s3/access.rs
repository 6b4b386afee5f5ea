//! Who may do what at the S3 endpoint.
//!
//! Two kinds of keys sign requests: the project's keys (full access, for
//! people and tools), and scoped credentials issued to handlers from the
//! function's `permissions` (see `sluice_core::credentials`). A scoped key's
//! secret is derived, not looked up, and every request with one must carry
//! its session token; the token's grant then decides, per bucket, whether the
//! operation may read or write. Anything not granted is `AccessDenied`.

use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::path::S3Path;
use s3s::{s3_error, S3Result};
use sluice_core::credentials::Issuer;
use std::collections::HashMap;

/// Resolves secrets of project keys and of issued scoped keys.
pub struct SluiceAuth {
    pub(super) project_keys: HashMap<String, String>,
    pub(super) issuer: Option<Issuer>,
}

#[async_trait::async_trait]
impl S3Auth for SluiceAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        if let Some(secret) = self.project_keys.get(access_key) {
            return Ok(secret.clone().into());
        }
        match self.issuer.as_ref().and_then(|i| i.secret_for(access_key)) {
            Some(secret) => Ok(secret.into()),
            None => Err(s3_error!(
                InvalidAccessKeyId,
                "the access key `{access_key}` does not exist in this Sluice"
            )),
        }
    }
}

/// Enforces the grants of scoped credentials.
pub struct ScopedAccess {
    pub(super) project_keys: HashMap<String, String>,
    pub(super) issuer: Option<Issuer>,
}

#[async_trait::async_trait]
impl S3Access for ScopedAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let Some(credentials) = cx.credentials() else {
            return Err(s3_error!(
                AccessDenied,
                "anonymous requests are not allowed; sign them with a Sluice key"
            ));
        };
        let access_key = credentials.access_key.clone();
        if self.project_keys.contains_key(&access_key) {
            return Ok(());
        }
        let issuer = self
            .issuer
            .as_ref()
            .ok_or_else(|| s3_error!(AccessDenied, "unknown access key"))?;
        let token = session_token(cx);
        let grant = issuer
            .verify(&access_key, token.as_deref())
            .map_err(|e| s3_error!(AccessDenied, "{e}"))?;
        let write = is_write(cx.s3_op().name());
        let denied = |bucket: &str, write: bool| {
            let verb = if write { "write" } else { "read" };
            s3_error!(
                AccessDenied,
                "{} may not {verb} bucket `{bucket}` (see `permissions` in sluice.yaml)",
                grant.principal
            )
        };
        match cx.s3_path() {
            S3Path::Root => {}
            S3Path::Bucket { bucket } | S3Path::Object { bucket, .. } => {
                if !grant.allows(bucket, write) {
                    return Err(denied(bucket, write));
                }
            }
        }
        if let Some(source_bucket) = copy_source_bucket(cx) {
            if !grant.allows(&source_bucket, false) {
                return Err(denied(&source_bucket, false));
            }
        }
        Ok(())
    }
}

/// The session token, from the header or (presigned URLs) the query.
fn session_token(cx: &S3AccessContext<'_>) -> Option<String> {
    if let Some(value) = cx
        .headers()
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok())
    {
        return Some(value.to_string());
    }
    cx.uri().query()?.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == "X-Amz-Security-Token").then(|| percent_decode(value))
    })
}

fn copy_source_bucket(cx: &S3AccessContext<'_>) -> Option<String> {
    let source = cx.headers().get("x-amz-copy-source")?.to_str().ok()?;
    let source = percent_decode(source);
    source
        .trim_start_matches('/')
        .split('/')
        .next()
        .map(str::to_string)
}

/// Operations that change a bucket or its objects.
fn is_write(operation: &str) -> bool {
    [
        "Put", "Delete", "Copy", "Create", "Upload", "Complete", "Abort", "Restore",
    ]
    .iter()
    .any(|p| operation.starts_with(p))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_told_from_reads_by_operation() {
        for op in [
            "PutObject",
            "DeleteObjects",
            "CopyObject",
            "CreateMultipartUpload",
            "UploadPart",
            "CompleteMultipartUpload",
            "AbortMultipartUpload",
        ] {
            assert!(is_write(op), "{op}");
        }
        for op in [
            "GetObject",
            "HeadObject",
            "ListObjectsV2",
            "ListObjectVersions",
            "HeadBucket",
            "GetBucketVersioning",
        ] {
            assert!(!is_write(op), "{op}");
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("/in%20box/a%2Bb"), "/in box/a+b");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
