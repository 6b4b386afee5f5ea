//! Scoped credentials for handlers: AWS-style keys that allow exactly what a
//! function declares in `permissions`, and nothing else.
//!
//! Sluice keeps one root key. From it, credentials are *derived*, not stored:
//! the access key id names the holder, the secret is an HMAC of the access key
//! id, and the session token carries the grant (which buckets, read or write)
//! signed with the root key. The S3 endpoint therefore needs no table of
//! issued keys: it re-derives the secret to check the SigV4 signature, then
//! checks the token's signature and grant for the operation. Handlers use the
//! usual `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, so
//! boto3 and the AWS SDKs work unchanged. Changing the root key revokes every
//! credential at once.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;

/// What a holder may do with one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketAccess {
    pub read: bool,
    pub write: bool,
}

/// What a set of credentials allows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Who holds it, e.g. `function:resize`.
    pub principal: String,
    pub buckets: BTreeMap<String, BucketAccess>,
}

impl Grant {
    /// Whether the grant allows reading (`write == false`) or writing `bucket`.
    pub fn allows(&self, bucket: &str, write: bool) -> bool {
        self.buckets
            .get(bucket)
            .is_some_and(|a| if write { a.write } else { a.read })
    }
}

/// Credentials handed to a handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

/// Why presented credentials are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("access key `{0}` was not issued by this Sluice")]
    UnknownKey(String),
    #[error("the request carries no session token (X-Amz-Security-Token)")]
    MissingToken,
    #[error("the session token is malformed or was not issued for this access key")]
    InvalidToken,
}

/// Issues and verifies scoped credentials from one root key.
#[derive(Clone)]
pub struct Issuer {
    root: Vec<u8>,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Issuer { root: <hidden> }")
    }
}

/// Access key ids of scoped credentials start like AWS's temporary ones.
const PREFIX: &str = "ASIA";

impl Issuer {
    /// An issuer over `root` (keep it secret; 32 random bytes are plenty).
    pub fn new(root: impl Into<Vec<u8>>) -> Self {
        Issuer { root: root.into() }
    }

    fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.root).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part);
            mac.update(b"\n");
        }
        mac.finalize().into_bytes().to_vec()
    }

    /// Credentials allowing exactly `grant`.
    pub fn issue(&self, grant: &Grant) -> IssuedCredentials {
        let payload = serde_json::to_vec(grant).expect("a grant serializes");
        let id = hex(&self.mac(&[b"id", &payload]))[..16].to_uppercase();
        let access_key_id = format!("{PREFIX}{id}");
        let signature = self.mac(&[b"token", access_key_id.as_bytes(), &payload]);
        IssuedCredentials {
            secret_access_key: self.secret_for(&access_key_id).expect("an issued key"),
            session_token: format!("{}.{}", hex(&payload), hex(&signature)),
            access_key_id,
        }
    }

    /// The secret of an access key this issuer hands out, or `None` for any other key.
    pub fn secret_for(&self, access_key_id: &str) -> Option<String> {
        let rest = access_key_id.strip_prefix(PREFIX)?;
        (rest.len() == 16 && rest.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| hex(&self.mac(&[b"secret", access_key_id.as_bytes()])))
    }

    /// The grant a request may use, given its access key and session token.
    pub fn verify(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
    ) -> Result<Grant, CredentialError> {
        self.secret_for(access_key_id)
            .ok_or_else(|| CredentialError::UnknownKey(access_key_id.to_string()))?;
        let token = session_token.ok_or(CredentialError::MissingToken)?;
        let (payload, signature) = token.split_once('.').ok_or(CredentialError::InvalidToken)?;
        let (payload, signature) = (
            unhex(payload).ok_or(CredentialError::InvalidToken)?,
            unhex(signature).ok_or(CredentialError::InvalidToken)?,
        );
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.root).expect("HMAC takes keys of any length");
        for part in [b"token".as_slice(), access_key_id.as_bytes(), &payload] {
            mac.update(part);
            mac.update(b"\n");
        }
        mac.verify_slice(&signature)
            .map_err(|_| CredentialError::InvalidToken)?;
        serde_json::from_slice(&payload).map_err(|_| CredentialError::InvalidToken)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        let mut buckets = BTreeMap::new();
        buckets.insert(
            "inbound".to_string(),
            BucketAccess {
                read: true,
                write: false,
            },
        );
        buckets.insert(
            "archive".to_string(),
            BucketAccess {
                read: true,
                write: true,
            },
        );
        Grant {
            principal: "function:load".into(),
            buckets,
        }
    }

    #[test]
    fn issued_credentials_verify_to_their_grant() {
        let issuer = Issuer::new(b"root key".to_vec());
        let creds = issuer.issue(&grant());
        assert!(creds.access_key_id.starts_with("ASIA") && creds.access_key_id.len() == 20);
        assert_eq!(
            issuer.secret_for(&creds.access_key_id).as_deref(),
            Some(creds.secret_access_key.as_str())
        );
        let verified = issuer
            .verify(&creds.access_key_id, Some(&creds.session_token))
            .unwrap();
        assert!(verified.allows("inbound", false) && !verified.allows("inbound", true));
        assert!(verified.allows("archive", true));
        assert!(!verified.allows("secrets", false));
    }

    #[test]
    fn tampered_or_foreign_credentials_are_refused() {
        let issuer = Issuer::new(b"root key".to_vec());
        let creds = issuer.issue(&grant());
        let mut wider = grant();
        wider.buckets.get_mut("inbound").unwrap().write = true;
        let forged_payload = hex(&serde_json::to_vec(&wider).unwrap());
        let signature = creds.session_token.split_once('.').unwrap().1;
        let forged = format!("{forged_payload}.{signature}");
        assert_eq!(
            issuer.verify(&creds.access_key_id, Some(&forged)),
            Err(CredentialError::InvalidToken)
        );
        assert_eq!(
            issuer.verify(&creds.access_key_id, None),
            Err(CredentialError::MissingToken)
        );
        let other = Issuer::new(b"another root".to_vec());
        assert_eq!(
            other.verify(&creds.access_key_id, Some(&creds.session_token)),
            Err(CredentialError::InvalidToken)
        );
        assert!(matches!(
            issuer.verify("AKIAIOSFODNN7EXAMPLE", Some(&creds.session_token)),
            Err(CredentialError::UnknownKey(_))
        ));
        let someone_else = issuer.issue(&Grant {
            principal: "function:other".into(),
            ..grant()
        });
        assert_eq!(
            issuer.verify(&someone_else.access_key_id, Some(&creds.session_token)),
            Err(CredentialError::InvalidToken),
            "a token is bound to its key"
        );
    }
}
