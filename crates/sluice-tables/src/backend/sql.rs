//! SQL text shared by the backends: identifiers, column types per dialect,
//! and the upsert's column lists.

use crate::schema::TableSchema;
use sluice_spec::ColumnType;

/// A double-quoted identifier (both SQLite and PostgreSQL accept these).
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The column type in SQLite. Decimals stay text so no digit is rounded;
/// timestamps are fixed-width UTC text so text order is time order.
pub(crate) fn sqlite_type(kind: ColumnType) -> &'static str {
    match kind {
        ColumnType::Integer | ColumnType::Boolean => "INTEGER",
        ColumnType::Float => "REAL",
        ColumnType::String
        | ColumnType::Decimal
        | ColumnType::Date
        | ColumnType::Timestamp
        | ColumnType::Json => "TEXT",
    }
}

/// The column type in PostgreSQL, as `information_schema.columns.data_type` names it.
pub(crate) fn postgres_type(kind: ColumnType) -> &'static str {
    match kind {
        ColumnType::String => "text",
        ColumnType::Integer => "bigint",
        ColumnType::Decimal => "numeric",
        ColumnType::Float => "double precision",
        ColumnType::Boolean => "boolean",
        ColumnType::Date => "date",
        ColumnType::Timestamp => "timestamp with time zone",
        ColumnType::Json => "jsonb",
    }
}

/// `"a", "b", …` of every column.
pub(crate) fn column_list(schema: &TableSchema) -> String {
    schema
        .columns
        .iter()
        .map(|c| ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `"pk", "sk"`.
pub(crate) fn key_list(schema: &TableSchema) -> String {
    schema
        .key_positions()
        .iter()
        .map(|p| ident(&schema.columns[*p].name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `DO UPDATE SET "a" = excluded."a", …` over the non-key columns, or
/// `DO NOTHING` when every column is part of the key.
pub(crate) fn conflict_action(schema: &TableSchema) -> String {
    let sets: Vec<String> = schema
        .columns
        .iter()
        .enumerate()
        .filter(|(p, _)| !schema.is_key(*p))
        .map(|(_, c)| format!("{0} = excluded.{0}", ident(&c.name)))
        .collect();
    if sets.is_empty() {
        "DO NOTHING".into()
    } else {
        format!("DO UPDATE SET {}", sets.join(", "))
    }
}

/// The table keeping which file versions were loaded (see [`super::LoadMarker`]).
pub(crate) const LOADS_TABLE: &str = "_sluice_loads";
