//! API tokens over HTTP: create (the secret is in this answer only), list, revoke.

use crate::body::JsonBody;
use crate::ApiError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use sluice_core::token::{TokenRecord, TokenScope};
use sluice_engine::{CreatedToken, Engine};

/// The body of `POST /v1/tokens`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// A label, unique among tokens that are not revoked.
    pub name: String,
    /// The pipelines the token may use; absent means every target (`all`).
    #[serde(default)]
    pub pipelines: Option<Vec<String>>,
    /// When the token stops working, in milliseconds since the epoch.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// `POST /v1/tokens`: `201 Created` with the token, shown this once.
pub async fn create(
    State(engine): State<Engine>,
    JsonBody(body): JsonBody<CreateToken>,
) -> Result<(StatusCode, Json<CreatedView>), ApiError> {
    let scope = match body.pipelines {
        None => TokenScope::All,
        Some(names) => TokenScope::Pipelines(names.into_iter().collect()),
    };
    let CreatedToken { record, token } = engine
        .create_token(&body.name, scope, body.expires_at)
        .await?;
    let view = CreatedView {
        token,
        view: record.into(),
    };
    Ok((StatusCode::CREATED, Json(view)))
}

/// A token just created: its listing and the bearer value, shown once.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct CreatedView {
    #[serde(flatten)]
    pub view: TokenView,
    /// What to send as `Authorization: Bearer`; Sluice keeps only its hash.
    pub token: String,
}

/// `GET /v1/tokens`: every token without secrets (their hashes are not shown either).
pub async fn list(State(engine): State<Engine>) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = engine.store().list_tokens().await?;
    Ok(Json(tokens.into_iter().map(TokenView::from).collect()))
}

/// `POST /v1/tokens/{id}/revoke`: the token stops working at once.
pub async fn revoke(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> Result<Json<TokenView>, ApiError> {
    let record = engine.store().revoke_token(&id).await?;
    tracing::info!(token_id = %id, "API token revoked");
    Ok(Json(record.into()))
}

/// A token as listed: no secret, no hash.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    /// `"admin"`, `"all"`, or `{"pipelines": [..]}`.
    #[schemars(with = "serde_json::Value")]
    pub scope: TokenScope,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl From<TokenRecord> for TokenView {
    fn from(t: TokenRecord) -> Self {
        TokenView {
            id: t.id,
            name: t.name,
            scope: t.scope,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}
