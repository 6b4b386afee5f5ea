//! API tokens: creating them, checking a bearer value against a request's
//! needs, and the admin token `sluice up` keeps for the local CLI.
//!
//! The decisions are pure ([`sluice_core::token`]); this module adds the
//! store lookups and the project's names (a scope may only name declared
//! pipelines).

use crate::engine::Engine;
use crate::EngineError;
use sluice_core::time::now_ms;
use sluice_core::token::{self, Access, TokenError, TokenRecord, TokenScope};
use sluice_store::{NewToken, StoreError};

/// A token just created: its record and the bearer value, shown only now.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub record: TokenRecord,
    /// What to send as `Authorization: Bearer`; not stored anywhere.
    pub token: String,
}

impl Engine {
    /// Creates a token. Pipelines named in the scope must be declared.
    pub async fn create_token(
        &self,
        name: &str,
        scope: TokenScope,
        expires_at: Option<i64>,
    ) -> Result<CreatedToken, EngineError> {
        if name.trim().is_empty() {
            return Err(EngineError::Invalid("a token needs a name".into()));
        }
        if let TokenScope::Pipelines(names) = &scope {
            if names.is_empty() {
                return Err(EngineError::Invalid(
                    "a token scoped to pipelines must name at least one".into(),
                ));
            }
            for pipeline in names {
                self.pipeline(pipeline)?;
            }
        }
        let minted = token::mint();
        let record = self
            .store()
            .create_token(&NewToken {
                id: minted.id,
                name: name.to_string(),
                secret_hash: minted.secret_hash,
                scope,
                expires_at,
            })
            .await?;
        tracing::info!(token_id = %record.id, name, scope = %record.scope.describe(), "API token created");
        Ok(CreatedToken {
            record,
            token: minted.bearer,
        })
    }

    /// Checks a bearer value for `access`. The outer error is a store
    /// failure; the inner one says why the token is refused.
    pub async fn authenticate(
        &self,
        bearer: &str,
        access: &Access,
    ) -> Result<Result<TokenRecord, TokenError>, EngineError> {
        let Some((id, secret)) = token::parse(bearer) else {
            return Ok(Err(TokenError::Malformed));
        };
        let record = match self.store().get_token(id).await {
            Ok(record) => record,
            Err(StoreError::NotFound { .. }) => {
                return Ok(Err(TokenError::Unknown(id.to_string())))
            }
            Err(other) => return Err(other.into()),
        };
        Ok(token::check(&record, secret, now_ms(), access).map(|()| record))
    }

    /// Makes sure the admin token kept for the local CLI works: `current`
    /// (read from the data directory) is kept when it is a live admin
    /// token; otherwise a new admin token is created and returned, to be
    /// written back.
    pub async fn ensure_admin_token(
        &self,
        current: Option<&str>,
    ) -> Result<Option<String>, EngineError> {
        if let Some(bearer) = current {
            if self
                .authenticate(bearer.trim(), &Access::Admin)
                .await?
                .is_ok()
            {
                return Ok(None);
            }
        }
        // Named by creation time: unique among live tokens even when several
        // processes sharing a store each keep their own.
        let name = format!("admin-{}", now_ms());
        let created = self.create_token(&name, TokenScope::Admin, None).await?;
        Ok(Some(created.token))
    }
}
