//! API tokens: bearer secrets that let a client call the HTTP API and HTTP
//! triggers, each limited to a scope and optionally to a lifetime.
//!
//! A token reads `sluice_<id>_<secret>`. The id (public, shown by
//! `sluice token list`) finds the stored record; the secret is 32 random bytes
//! that only the client keeps. The store holds the SHA-256 of the secret, never
//! the secret: a leaked database yields no usable token. A fast hash is enough
//! (a slow one, as for passwords, buys nothing) because the secret has 256 bits
//! of entropy and cannot be guessed, only stolen.
//!
//! Everything here is pure: minting, parsing, hashing and the access decision.

use crate::time::EpochMillis;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// What every token starts with, so a token is recognisable in a config file
/// or a leak scanner.
pub const TOKEN_PREFIX: &str = "sluice_";

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Everything, including managing tokens (the token `sluice up` writes
    /// to the data directory for the local CLI).
    Admin,
    /// Every pipeline, function, queue, schedule and event, but not tokens.
    All,
    /// Only these pipelines: starting them, their runs and their live feeds.
    Pipelines(BTreeSet<String>),
}

impl TokenScope {
    /// One line for listings: `admin`, `all`, or `pipelines: a, b`.
    pub fn describe(&self) -> String {
        match self {
            TokenScope::Admin => "admin".into(),
            TokenScope::All => "all".into(),
            TokenScope::Pipelines(names) => format!(
                "pipelines: {}",
                names.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

/// What a request needs its token to allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Managing tokens.
    Admin,
    /// Anything that is not one pipeline's (queues, functions, schedules, events).
    All,
    /// One pipeline: start it, read its runs, follow it.
    Pipeline(String),
}

impl std::fmt::Display for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Access::Admin => write!(f, "token management (an admin token)"),
            Access::All => write!(f, "every target (a token with scope `all`)"),
            Access::Pipeline(name) => write!(f, "pipeline `{name}`"),
        }
    }
}

/// A token as stored: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Public identifier, `tok_` and 16 hex digits.
    pub id: String,
    /// A label chosen by whoever created it.
    pub name: String,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
    pub scope: TokenScope,
    pub created_at: EpochMillis,
    pub expires_at: Option<EpochMillis>,
    pub revoked_at: Option<EpochMillis>,
}

/// A freshly minted token: the full bearer value (shown once) and its parts.
#[derive(Debug, Clone)]
pub struct MintedToken {
    pub id: String,
    /// `sluice_<id>_<secret>`: what the client sends as `Authorization: Bearer`.
    pub bearer: String,
    pub secret_hash: String,
}

/// Why a bearer value is refused. `Unknown`, `Revoked` and `Expired` are
/// authentication failures (HTTP 401): the client must get another token.
/// `OutOfScope` is an authorization failure (HTTP 403): the token is valid
/// but does not cover what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the bearer value is not a Sluice API token (they start with `{TOKEN_PREFIX}`)")]
    Malformed,
    #[error("token `{0}` is unknown or its secret is wrong")]
    Unknown(String),
    #[error("token `{0}` was revoked")]
    Revoked(String),
    #[error("token `{id}` expired at {at}; create a new one with `sluice token create`")]
    Expired { id: String, at: String },
    #[error("token `{id}` (scope {scope}) does not allow {access}")]
    OutOfScope {
        id: String,
        scope: String,
        access: Access,
    },
}

impl TokenError {
    /// True for failures of authorization (the token is valid, the scope too narrow).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, TokenError::OutOfScope { .. })
    }
}

/// Mints a new random token.
pub fn mint() -> MintedToken {
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    let mut rng = rand::rngs::OsRng;
    rng.fill_bytes(&mut id);
    rng.fill_bytes(&mut secret);
    let id = format!("tok_{}", hex(&id));
    let secret = hex(&secret);
    MintedToken {
        bearer: format!("{TOKEN_PREFIX}{id}_{secret}"),
        secret_hash: hash_secret(&secret),
        id,
    }
}

/// Splits a bearer value into (id, secret), or `None` when it is not shaped
/// like a Sluice token.
pub fn parse(bearer: &str) -> Option<(&str, &str)> {
    let rest = bearer.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.rsplit_once('_')?;
    let hex_part = id.strip_prefix("tok_")?;
    let well_formed = hex_part.len() == 16
        && secret.len() == 64
        && hex_part
            .chars()
            .chain(secret.chars())
            .all(|c| c.is_ascii_hexdigit());
    well_formed.then_some((id, secret))
}

/// Hex SHA-256 of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Decides whether `record` (found by the id in the bearer value) admits a
/// request presenting `secret` at `now` for `access`.
pub fn check(
    record: &TokenRecord,
    secret: &str,
    now: EpochMillis,
    access: &Access,
) -> Result<(), TokenError> {
    if !constant_time_eq(
        hash_secret(secret).as_bytes(),
        record.secret_hash.as_bytes(),
    ) {
        return Err(TokenError::Unknown(record.id.clone()));
    }
    if record.revoked_at.is_some() {
        return Err(TokenError::Revoked(record.id.clone()));
    }
    if let Some(at) = record.expires_at.filter(|at| *at <= now) {
        let at = chrono::DateTime::from_timestamp_millis(at)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| at.to_string());
        return Err(TokenError::Expired {
            id: record.id.clone(),
            at,
        });
    }
    if allows(&record.scope, access) {
        Ok(())
    } else {
        Err(TokenError::OutOfScope {
            id: record.id.clone(),
            scope: record.scope.describe(),
            access: access.clone(),
        })
    }
}

/// Whether a scope covers an access.
pub fn allows(scope: &TokenScope, access: &Access) -> bool {
    match (scope, access) {
        (TokenScope::Admin, _) => true,
        (TokenScope::All, Access::Admin) => false,
        (TokenScope::All, _) => true,
        (TokenScope::Pipelines(names), Access::Pipeline(name)) => names.contains(name),
        (TokenScope::Pipelines(_), _) => false,
    }
}

/// Compares without stopping at the first difference, so timing tells nothing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(minted: &MintedToken, scope: TokenScope) -> TokenRecord {
        TokenRecord {
            id: minted.id.clone(),
            name: "ci".into(),
            secret_hash: minted.secret_hash.clone(),
            scope,
            created_at: 0,
            expires_at: None,
            revoked_at: None,
        }
    }

    fn pipelines(names: &[&str]) -> TokenScope {
        TokenScope::Pipelines(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn minted_tokens_parse_back_and_differ() {
        let a = mint();
        let b = mint();
        assert_ne!(a.bearer, b.bearer);
        let (id, secret) = parse(&a.bearer).expect("a minted token parses");
        assert_eq!(id, a.id);
        assert_eq!(hash_secret(secret), a.secret_hash);
        assert!(
            !a.secret_hash.contains(secret),
            "the hash is not the secret"
        );
    }

    #[test]
    fn malformed_bearer_values_do_not_parse() {
        let good = mint().bearer;
        for bad in [
            "",
            "s3cret",
            "sluice_",
            &good[..good.len() - 1],
            &good.replace("tok_", "tik_"),
            &format!("{good}0"),
            &good.replace(&good[good.len() - 4..], "zzzz"),
        ] {
            assert_eq!(parse(bad), None, "{bad:?} must not parse");
        }
    }

    #[test]
    fn access_decisions_follow_scope_secret_expiry_and_revocation() {
        let minted = mint();
        let (_, secret) = parse(&minted.bearer).unwrap();
        let etl = Access::Pipeline("etl".into());
        let wrong_secret = "0".repeat(64);
        let cases: Vec<(TokenRecord, &str, Access, Result<(), &str>)> = vec![
            (
                record(&minted, TokenScope::All),
                secret,
                etl.clone(),
                Ok(()),
            ),
            (
                record(&minted, TokenScope::All),
                secret,
                Access::Admin,
                Err("scope"),
            ),
            (
                record(&minted, TokenScope::Admin),
                secret,
                Access::Admin,
                Ok(()),
            ),
            (
                record(&minted, pipelines(&["etl"])),
                secret,
                etl.clone(),
                Ok(()),
            ),
            (
                record(&minted, pipelines(&["etl"])),
                secret,
                Access::Pipeline("other".into()),
                Err("scope"),
            ),
            (
                record(&minted, pipelines(&["etl"])),
                secret,
                Access::All,
                Err("scope"),
            ),
            (
                record(&minted, TokenScope::All),
                &wrong_secret,
                etl.clone(),
                Err("unknown"),
            ),
            (
                TokenRecord {
                    revoked_at: Some(5),
                    ..record(&minted, TokenScope::All)
                },
                secret,
                etl.clone(),
                Err("revoked"),
            ),
            (
                TokenRecord {
                    expires_at: Some(1_000),
                    ..record(&minted, TokenScope::All)
                },
                secret,
                etl.clone(),
                Err("expired"),
            ),
            (
                TokenRecord {
                    expires_at: Some(1_001),
                    ..record(&minted, TokenScope::All)
                },
                secret,
                etl.clone(),
                Ok(()),
            ),
        ];
        for (record, secret, access, expected) in cases {
            let got = check(&record, secret, 1_000, &access);
            let kind = got.as_ref().map_err(|e| match e {
                TokenError::OutOfScope { .. } => "scope",
                TokenError::Unknown(_) => "unknown",
                TokenError::Revoked(_) => "revoked",
                TokenError::Expired { .. } => "expired",
                TokenError::Malformed => "malformed",
            });
            assert_eq!(
                kind.map(|_| ()),
                expected,
                "{:?} for {access:?}",
                record.scope
            );
        }
    }

    #[test]
    fn expiry_message_names_the_token_and_the_time() {
        let minted = mint();
        let (_, secret) = parse(&minted.bearer).unwrap();
        let record = TokenRecord {
            expires_at: Some(1_700_000_000_000),
            ..record(&minted, TokenScope::All)
        };
        let err = check(&record, secret, 1_800_000_000_000, &Access::All).unwrap_err();
        assert!(!err.is_forbidden());
        let text = err.to_string();
        assert!(
            text.contains(&minted.id) && text.contains("2023-11-14T22:13:20Z"),
            "{text}"
        );
    }
}
