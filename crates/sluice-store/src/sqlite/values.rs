//! Conversions between Rust values and SQLite column values.
//!
//! SQLite stores integers as `i64`; the public model uses `u32`/`u64` for counts
//! and durations. Converting in one place, saturating instead of wrapping, keeps
//! a huge configured timeout from turning into a negative one.

use super::error::{DbError, DbResult};
use serde_json::Value;
use std::str::FromStr;

/// A duration or count for SQLite, saturated at `i64::MAX`.
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
