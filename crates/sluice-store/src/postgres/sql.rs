//! Statement helpers and conversions between Rust values and PostgreSQL columns.
//!
//! Every statement goes through the pool's per-connection statement cache, so
//! the hot paths pay one round trip per statement and never re-parse SQL.
//!
//! Columns are `BIGINT` for every count, duration and instant (epoch ms) and
//! `TEXT` for JSON. TEXT rather than JSONB because the store never queries
//! inside a body, and TEXT gives back exactly what serde_json wrote (JSONB would
//! re-render numbers such as `1e2` and reorder keys on the way back).

use super::error::{DbError, DbResult};
use deadpool_postgres::Transaction;
use serde_json::Value;
use std::str::FromStr;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// The transaction every backend function works in.
pub(crate) type Tx<'a> = Transaction<'a>;

/// Statement parameters.
pub(crate) type Params<'p> = [&'p (dyn ToSql + Sync)];

/// Rows of a cached statement.
pub(crate) async fn query(tx: &Tx<'_>, sql: &str, params: &Params<'_>) -> DbResult<Vec<Row>> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query(&statement, params).await?)
}

/// The one row of a cached statement, or `None`.
pub(crate) async fn query_opt(
    tx: &Tx<'_>,
    sql: &str,
    params: &Params<'_>,
) -> DbResult<Option<Row>> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query_opt(&statement, params).await?)
}

/// The exactly one row of a cached statement.
pub(crate) async fn query_one(tx: &Tx<'_>, sql: &str, params: &Params<'_>) -> DbResult<Row> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query_one(&statement, params).await?)
}

/// Runs a cached statement; returns the number of rows it touched.
pub(crate) async fn execute(tx: &Tx<'_>, sql: &str, params: &Params<'_>) -> DbResult<u64> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.execute(&statement, params).await?)
}

/// A duration or count for a BIGINT column, saturated at `i64::MAX`.
pub(crate) fn to_sql_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// `now + duration`, saturating instead of overflowing.
pub(crate) fn later(now: i64, duration_ms: u64) -> i64 {
    now.saturating_add(to_sql_int(duration_ms))
}

/// A stored non-negative integer as `u32`, clamped into range.
pub(crate) fn to_u32(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

/// A stored non-negative integer as `u64`, clamped into range.
pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A listing limit for `LIMIT $n`: 0 means unlimited, which is `LIMIT NULL`.
pub(crate) fn sql_limit(limit: usize) -> Option<i64> {
    (limit > 0).then(|| to_sql_int(limit as u64))
}

/// Encodes a JSON value for a TEXT column.
pub(crate) fn json_text(value: &Value) -> DbResult<String> {
    Ok(serde_json::to_string(value)?)
}

/// Encodes an optional JSON value for a nullable TEXT column.
pub(crate) fn opt_json_text(value: Option<&Value>) -> DbResult<Option<String>> {
    value.map(json_text).transpose()
}

/// Decodes a JSON TEXT column.
pub(crate) fn parse_json(text: &str) -> DbResult<Value> {
    Ok(serde_json::from_str(text)?)
}

/// Decodes a nullable JSON TEXT column.
pub(crate) fn parse_opt_json(text: Option<String>) -> DbResult<Option<Value>> {
    text.as_deref().map(parse_json).transpose()
}

/// Parses a stored status or kind name.
pub(crate) fn parse_name<T: FromStr<Err = String>>(text: &str) -> DbResult<T> {
    text.parse().map_err(DbError::BadValue)
}
