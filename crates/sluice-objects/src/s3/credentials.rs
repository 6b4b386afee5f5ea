//! Access keys for the S3 endpoint's Signature V4 authentication.
//!
//! Keys come from the project file or, when it declares none, are generated
//! at first start into `DATA_DIR/s3-credentials.json` (mode 0600) and handed
//! back once so `sluice up` can print them.
//!
//! **Why the secret is not stored hashed.** SigV4 has the server recompute an
//! HMAC keyed by a key derived from the secret *and the request's date*, so
//! the server needs the secret itself (AWS keeps secrets recoverable for the
//! same reason). A hash would make verification impossible. The file is
//! therefore readable only by its owner, inside the data directory, and the
//! secret never appears in logs or `Debug` output.

use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File name of generated credentials inside the data directory.
pub const CREDENTIALS_FILE: &str = "s3-credentials.json";

/// One access key pair.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl AccessKey {
    /// A fresh random pair in AWS's shapes (20-char id, 40-char secret).
    pub fn generate() -> AccessKey {
        let random = |len| {
            rand::thread_rng()
                .sample_iter(&Alphanumeric)
                .take(len)
                .map(char::from)
                .collect::<String>()
        };
        AccessKey {
            access_key_id: format!("SLK{}", random(17).to_ascii_uppercase()),
            secret_access_key: random(40),
        }
    }
}

/// The keys the endpoint accepts.
#[derive(Debug, Clone, Default)]
pub struct S3Credentials {
    pub(super) keys: Vec<AccessKey>,
    /// Verifies the scoped credentials handed to handlers, when set.
    pub(super) issuer: Option<sluice_core::credentials::Issuer>,
}

impl S3Credentials {
    /// Also accept scoped credentials from `issuer`, limited to their grants.
    pub fn with_issuer(mut self, issuer: sluice_core::credentials::Issuer) -> Self {
        self.issuer = Some(issuer);
        self
    }

    /// Accept exactly these keys (e.g. from the project file).
    pub fn from_keys(keys: Vec<AccessKey>) -> S3Credentials {
        S3Credentials { keys, issuer: None }
    }

    /// Loads `DATA_DIR/s3-credentials.json`, creating it with a fresh key if
    /// missing. Returns the key as well when it was just generated, so the
    /// caller can print it once.
    pub fn load_or_generate(
        data_dir: &Path,
    ) -> std::io::Result<(S3Credentials, Option<AccessKey>)> {
        let path = data_dir.join(CREDENTIALS_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let keys: Vec<AccessKey> = serde_json::from_slice(&bytes).map_err(|e| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{}: {e}", path.display()),
                    )
                })?;
                Ok((S3Credentials { keys, issuer: None }, None))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = AccessKey::generate();
                write_private(
                    &path,
                    &serde_json::to_vec_pretty(&[&key]).expect("keys serialize"),
                )?;
                Ok((
                    S3Credentials {
                        keys: vec![key.clone()],
                        issuer: None,
                    },
                    Some(key),
                ))
            }
            Err(e) => Err(e),
        }
    }
}

/// Writes a file only its owner can read, atomically (temp file + rename).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let temp = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let (first, printed) = S3Credentials::load_or_generate(dir.path()).unwrap();
        let printed = printed.expect("a new key is returned for printing");
        assert_eq!(printed.access_key_id.len(), 20);
        let (again, none) = S3Credentials::load_or_generate(dir.path()).unwrap();
        assert!(none.is_none());
        assert_eq!(first.keys, again.keys);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(CREDENTIALS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{printed:?}").contains(&printed.secret_access_key));
    }
}
