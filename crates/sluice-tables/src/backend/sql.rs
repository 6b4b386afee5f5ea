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

/// A column as the database has it.
pub(crate) struct ExistingColumn {
    pub name: String,
    pub sql_type: String,
    pub not_null: bool,
}

/// `"a" TEXT NOT NULL, …`: the columns of a `CREATE TABLE`.
pub(crate) fn column_definitions(
    schema: &TableSchema,
    type_of: fn(ColumnType) -> &'static str,
) -> String {
    schema
        .columns
        .iter()
        .enumerate()
        .map(|(p, c)| {
            let not_null = if c.required || schema.is_key(p) {
                " NOT NULL"
            } else {
                ""
            };
            format!("{} {}{not_null}", ident(&c.name), type_of(c.kind))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compares an existing table with its declaration: the declared optional
/// columns it lacks (to add, with their types), or why it cannot serve.
pub(crate) fn reconcile(
    schema: &TableSchema,
    existing: &[ExistingColumn],
    type_of: fn(ColumnType) -> &'static str,
) -> Result<Vec<(String, &'static str)>, String> {
    let mut missing = Vec::new();
    for (p, column) in schema.columns.iter().enumerate() {
        let want = type_of(column.kind);
        match existing.iter().find(|e| e.name == column.name) {
            Some(e) if !e.sql_type.eq_ignore_ascii_case(want) => {
                return Err(format!(
                    "column `{}` is {}, expected {want}",
                    column.name, e.sql_type
                ));
            }
            Some(_) => {}
            None if column.required || schema.is_key(p) => {
                return Err(format!("required column `{}` is missing", column.name));
            }
            None => missing.push((column.name.clone(), want)),
        }
    }
    if let Some(e) = existing
        .iter()
        .find(|e| e.not_null && schema.column(&e.name).is_none())
    {
        return Err(format!(
            "undeclared column `{}` is NOT NULL, so no row could be loaded",
            e.name
        ));
    }
    Ok(missing)
}

/// The table keeping which file versions were loaded (see [`super::LoadMarker`]).
pub(crate) const LOADS_TABLE: &str = "_sluice_loads";
