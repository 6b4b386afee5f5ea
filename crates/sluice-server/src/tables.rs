//! Tables over HTTP: list them, and read a partition's items by partition
//! key, by partition and sort key, or by sort-key range, a page at a time.
//!
//! The cursor is the last item's sort key as text; a client passes it back
//! unchanged as `cursor` to get the next page.

use crate::ApiError;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sluice_engine::Engine;
use sluice_tables::schema::type_name;
use sluice_tables::{parse_cell, BoundTable, Cell, ItemQuery, SortCondition, TableError};

/// Items per page unless `limit` says otherwise, and the most it may say.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ItemsQuery {
    /// The partition key (required).
    pk: Option<String>,
    /// Exactly this sort key.
    sk: Option<String>,
    /// Sort keys from this one (inclusive).
    sk_from: Option<String>,
    /// Sort keys up to this one (inclusive).
    sk_to: Option<String>,
    /// Sort keys starting with this text.
    sk_begins_with: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

impl From<TableError> for ApiError {
    fn from(err: TableError) -> Self {
        let (status, code) = match &err {
            TableError::NoSuchTable(_) => (StatusCode::NOT_FOUND, "not_found"),
            TableError::BadQuery(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            TableError::Database { .. } => (StatusCode::SERVICE_UNAVAILABLE, "table_unavailable"),
            TableError::InvalidSchema { .. } | TableError::Mismatch { .. } => {
                (StatusCode::CONFLICT, "table_mismatch")
            }
        };
        ApiError {
            status,
            code,
            message: err.to_string(),
        }
    }
}

fn table<'a>(engine: &'a Engine, name: &str) -> Result<&'a BoundTable, ApiError> {
    let tables = engine
        .tables()
        .ok_or_else(|| ApiError::from(TableError::NoSuchTable(name.to_string())))?;
    Ok(tables.get(name)?)
}

pub async fn list(State(engine): State<Engine>) -> Json<Value> {
    let Some(tables) = engine.tables() else {
        return Json(json!([]));
    };
    let list: Vec<Value> = tables
        .names()
        .filter_map(|name| tables.get(name).ok().map(|t| (name, t)))
        .map(|(name, t)| {
            let s = &t.schema;
            json!({
                "name": name,
                "database": t.backend.describe(),
                "key": {
                    "partition": s.columns[s.partition].name,
                    "sort": s.sort.map(|p| s.columns[p].name.clone()),
                },
                "columns": s.columns.iter().map(|c| json!({
                    "name": c.name, "type": type_name(c.kind), "required": c.required,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(Value::Array(list))
}

pub async fn items(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(q): Query<ItemsQuery>,
) -> Result<Json<Value>, ApiError> {
    let bound = table(&engine, &name)?;
    let schema = &bound.schema;
    let pk_column = &schema.columns[schema.partition];
    let pk = q.pk.as_deref().ok_or_else(|| {
        ApiError::bad_request(format!(
            "give the partition key: ?pk=VALUE (column `{}`)",
            pk_column.name
        ))
    })?;
    let cell = |what: &str, position: usize, text: &str| -> Result<Cell, ApiError> {
        let column = &schema.columns[position];
        parse_cell(column.kind, text).map_err(|reason| {
            ApiError::bad_request(format!("`{what}` for column `{}`: {reason}", column.name))
        })
    };
    let partition = cell("pk", schema.partition, pk)?;
    let wants_sort = q.sk.is_some()
        || q.sk_from.is_some()
        || q.sk_to.is_some()
        || q.sk_begins_with.is_some()
        || q.cursor.is_some();
    let sort = match schema.sort {
        None if wants_sort => {
            return Err(ApiError::bad_request(format!(
                "table `{name}` has no sort key; query it by `pk` alone"
            )))
        }
        None => SortCondition::Any,
        Some(sk) => match (&q.sk, &q.sk_from, &q.sk_to, &q.sk_begins_with) {
            (Some(v), None, None, None) => SortCondition::Equals(cell("sk", sk, v)?),
            (None, from, to, None) if from.is_some() || to.is_some() => SortCondition::Between(
                from.as_deref()
                    .map(|v| cell("sk_from", sk, v))
                    .transpose()?,
                to.as_deref().map(|v| cell("sk_to", sk, v)).transpose()?,
            ),
            (None, None, None, Some(prefix)) => SortCondition::BeginsWith(prefix.clone()),
            (None, None, None, None) => SortCondition::Any,
            _ => {
                return Err(ApiError::bad_request(
                    "use one of `sk`, `sk_from`/`sk_to` or `sk_begins_with`",
                ))
            }
        },
    };
    let after = match (&q.cursor, schema.sort) {
        (Some(c), Some(sk)) => Some(cell("cursor", sk, c)?),
        _ => None,
    };
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let page = bound
        .backend
        .query(
            schema,
            &ItemQuery {
                partition,
                sort,
                limit,
                after,
            },
        )
        .await?;
    Ok(Json(json!({
        "table": name,
        "count": page.items.len(),
        "items": page.items,
        "next_cursor": page.next.map(|c| c.canonical()),
    })))
}
