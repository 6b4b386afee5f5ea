//! API tokens on PostgreSQL: one row per token, the secret's hash only.

use super::error::{conflict, not_found, DbError, DbResult};
use super::sql::{self, Tx};
use crate::{NewToken, TokenRecord, TokenScope};
use sluice_core::time::EpochMillis;
use tokio_postgres::Row;

const SELECT: &str =
    "SELECT id, name, secret_hash, scope, created_at, expires_at, revoked_at FROM api_tokens";

pub(crate) async fn create_token(
    tx: &Tx<'_>,
    now: EpochMillis,
    token: &NewToken,
) -> DbResult<TokenRecord> {
    let taken = sql::query_opt(
        tx,
        "SELECT id FROM api_tokens WHERE name = $1 AND revoked_at IS NULL",
        &[&token.name],
    )
    .await?;
    if let Some(row) = taken {
        let id: String = row.get(0);
        return Err(conflict(format!(
            "a token named `{}` already exists (`{id}`); revoke it first or choose another name",
            token.name
        )));
    }
    let scope = serde_json::to_string(&token.scope)
        .map_err(|e| DbError::BadValue(format!("token scope: {e}")))?;
    sql::execute(
        tx,
        "INSERT INTO api_tokens (id, name, secret_hash, scope, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &token.id,
            &token.name,
            &token.secret_hash,
            &scope,
            &now,
            &token.expires_at,
        ],
    )
    .await?;
    get_token(tx, &token.id).await
}

pub(crate) async fn get_token(tx: &Tx<'_>, id: &str) -> DbResult<TokenRecord> {
    let row = sql::query_opt(tx, &format!("{SELECT} WHERE id = $1"), &[&id]).await?;
    match row {
        Some(row) => token_of(&row),
        None => Err(not_found("token", id)),
    }
}

pub(crate) async fn list_tokens(tx: &Tx<'_>) -> DbResult<Vec<TokenRecord>> {
    let rows = sql::query(tx, &format!("{SELECT} ORDER BY created_at, id"), &[]).await?;
    rows.iter().map(token_of).collect()
}

pub(crate) async fn revoke_token(tx: &Tx<'_>, now: EpochMillis, id: &str) -> DbResult<TokenRecord> {
    sql::execute(
        tx,
        "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
        &[&id, &now],
    )
    .await?;
    get_token(tx, id).await
}

fn token_of(row: &Row) -> DbResult<TokenRecord> {
    let scope: String = row.get(3);
    let scope: TokenScope = serde_json::from_str(&scope)
        .map_err(|e| DbError::BadValue(format!("token scope {scope:?}: {e}")))?;
    Ok(TokenRecord {
        id: row.get(0),
        name: row.get(1),
        secret_hash: row.get(2),
        scope,
        created_at: row.get(4),
        expires_at: row.get(5),
        revoked_at: row.get(6),
    })
}
