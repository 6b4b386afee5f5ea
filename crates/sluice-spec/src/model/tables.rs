//! Tables: typed records in Sluice's own database or a declared connection.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A table of typed records.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Table {
    /// Name of a declared connection holding the table (default: Sluice's own database).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// Columns in order: name → type and constraints.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub columns: IndexMap<String, Column>,
    /// Primary key: a partition column and an optional sort column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<TableKey>,
}

impl Table {
    /// The key columns, partition first.
    pub fn key_columns(&self) -> Vec<&str> {
        match &self.key {
            Some(k) => std::iter::once(k.partition.as_str())
                .chain(k.sort.as_deref())
                .collect(),
            None => Vec::new(),
        }
    }
}

/// A column: its type and the constraints rows must satisfy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Column {
    /// Value type.
    #[serde(rename = "type")]
    pub kind: ColumnType,
    /// Rows must have a non-null value (default false).
    #[serde(default)]
    pub required: bool,
    /// Maximum length in characters (strings only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// Regular expression the whole value must match (strings only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// The only allowed values.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<serde_json::Value>>,
    /// Minimum value (numbers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Maximum value (numbers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// The type of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    String,
    /// A 64-bit signed integer.
    Integer,
    /// An exact decimal number such as `12.50` (stored without rounding).
    Decimal,
    /// A 64-bit floating-point number (`number` is accepted as another name).
    #[serde(alias = "number")]
    Float,
    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `t`/`f` in CSV files).
    Boolean,
    /// An RFC 3339 date and time (`2024-05-01T12:00:00Z`; a space instead of
    /// `T` and a missing offset, read as UTC, are accepted in CSV files).
    Timestamp,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// Any JSON value.
    Json,
}

impl ColumnType {
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ColumnType::Integer | ColumnType::Decimal | ColumnType::Float
        )
    }
}

/// The primary key of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct TableKey {
    /// Column whose value partitions the rows.
    pub partition: String,
    /// Column ordering rows within a partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}
