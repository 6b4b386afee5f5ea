//! A table's declaration compiled for checking values: regular expressions
//! built once, enumerations as sets, the key resolved to column positions.

use crate::TableError;
use regex::Regex;
use sluice_spec::{ColumnType, Table};
use std::collections::HashSet;

/// One column, ready to validate values.
#[derive(Debug, Clone)]
pub struct ColumnSchema {
    pub name: String,
    pub kind: ColumnType,
    pub required: bool,
    pub max_length: Option<u32>,
    pub regex: Option<Regex>,
    /// Allowed values in their canonical text form (see [`crate::Cell::canonical`]).
    pub allowed: Option<HashSet<String>>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// A table: its columns in declaration order and its key.
#[derive(Debug, Clone)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<ColumnSchema>,
    /// Position of the partition column in `columns`.
    pub partition: usize,
    /// Position of the sort column, if the key has one.
    pub sort: Option<usize>,
}

impl TableSchema {
    /// Compiles a validated declaration. A table needs a key: loads upsert on it.
    pub fn compile(name: &str, table: &Table) -> Result<TableSchema, TableError> {
        let invalid = |reason: String| TableError::InvalidSchema {
            table: name.to_string(),
            reason,
        };
        let mut columns = Vec::with_capacity(table.columns.len());
        for (column, c) in &table.columns {
            let regex = match &c.regex {
                // Anchored: the whole value must match, as the file format documents.
                Some(re) => Some(
                    Regex::new(&format!("^(?:{re})$"))
                        .map_err(|e| invalid(format!("column `{column}`: bad regex: {e}")))?,
                ),
                None => None,
            };
            let allowed = match &c.allowed {
                Some(values) => {
                    let mut set = HashSet::new();
                    for v in values {
                        let text = match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        let cell = crate::value::parse_cell(c.kind, &text).map_err(|reason| {
                            invalid(format!(
                                "column `{column}`: enum value {v} is not a valid {}: {reason}",
                                type_name(c.kind)
                            ))
                        })?;
                        set.insert(cell.canonical());
                    }
                    Some(set)
                }
                None => None,
            };
            columns.push(ColumnSchema {
                name: column.clone(),
                kind: c.kind,
                required: c.required,
                max_length: c.max_length,
                regex,
                allowed,
                min: c.min,
                max: c.max,
            });
        }
        let key = table.key.as_ref().ok_or_else(|| {
            invalid("a table needs a `key` (partition column, optional sort column)".into())
        })?;
        let position = |column: &str| {
            columns
                .iter()
                .position(|c| c.name == column)
                .ok_or_else(|| invalid(format!("key column `{column}` is not declared")))
        };
        let partition = position(&key.partition)?;
        let sort = key.sort.as_deref().map(position).transpose()?;
        Ok(TableSchema {
            name: name.to_string(),
            columns,
            partition,
            sort,
        })
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Positions of the key columns, partition first.
    pub fn key_positions(&self) -> Vec<usize> {
        std::iter::once(self.partition).chain(self.sort).collect()
    }

    pub fn is_key(&self, position: usize) -> bool {
        position == self.partition || Some(position) == self.sort
    }
}

/// The name of a column type as written in `sluice.yaml`.
pub fn type_name(kind: ColumnType) -> &'static str {
    match kind {
        ColumnType::String => "string",
        ColumnType::Integer => "integer",
        ColumnType::Decimal => "decimal",
        ColumnType::Float => "float",
        ColumnType::Boolean => "boolean",
        ColumnType::Timestamp => "timestamp",
        ColumnType::Date => "date",
        ColumnType::Json => "json",
    }
}
