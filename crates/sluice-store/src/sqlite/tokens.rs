//! API tokens on SQLite: one row per token, the secret's hash only.

use super::error::{conflict, not_found, DbError, DbResult};
use crate::{NewToken, TokenRecord, TokenScope};
use rusqlite::{params, Connection, OptionalExtension, Row};
use sluice_core::time::EpochMillis;

const COLUMNS: &str = "id, name, secret_hash, scope, created_at, expires_at, revoked_at";

pub(crate) fn create_token(
    conn: &Connection,
    now: EpochMillis,
    token: &NewToken,
) -> DbResult<TokenRecord> {
    let taken: Option<String> = conn
        .prepare_cached("SELECT id FROM api_tokens WHERE name = ?1 AND revoked_at IS NULL")?
        .query_row([&token.name], |row| row.get(0))
        .optional()?;
    if let Some(id) = taken {
        return Err(conflict(format!(
            "a token named `{}` already exists (`{id}`); revoke it first or choose another name",
            token.name
        )));
    }
    conn.prepare_cached(
        "INSERT INTO api_tokens (id, name, secret_hash, scope, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        token.id,
        token.name,
        token.secret_hash,
        serde_json::to_string(&token.scope)?,
        now,
        token.expires_at
    ])?;
    get_token(conn, &token.id)
}

pub(crate) fn get_token(conn: &Connection, id: &str) -> DbResult<TokenRecord> {
    let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE id = ?1");
    let mut select = conn.prepare_cached(&sql)?;
    let mut rows = select.query([id])?;
    match rows.next()? {
        Some(row) => token_of(row),
        None => Err(not_found("token", id)),
    }
}

pub(crate) fn list_tokens(conn: &Connection) -> DbResult<Vec<TokenRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM api_tokens ORDER BY created_at, id");
    let mut select = conn.prepare_cached(&sql)?;
    let mut rows = select.query([])?;
    let mut tokens = Vec::new();
    while let Some(row) = rows.next()? {
        tokens.push(token_of(row)?);
    }
    Ok(tokens)
}

pub(crate) fn revoke_token(conn: &Connection, now: EpochMillis, id: &str) -> DbResult<TokenRecord> {
    conn.prepare_cached(
        "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
    )?
    .execute(params![id, now])?;
    get_token(conn, id)
}

fn token_of(row: &Row<'_>) -> DbResult<TokenRecord> {
    let scope: String = row.get(3)?;
    let scope: TokenScope = serde_json::from_str(&scope)
        .map_err(|e| DbError::BadValue(format!("token scope {scope:?}: {e}")))?;
    Ok(TokenRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        secret_hash: row.get(2)?,
        scope,
        created_at: row.get(4)?,
        expires_at: row.get(5)?,
        revoked_at: row.get(6)?,
    })
}
