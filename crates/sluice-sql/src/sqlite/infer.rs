//! SQLite column types: from the declared type, following SQLite's own
//! affinity rules, or, for expressions and untyped columns, from the first
//! non-null value among the first rows.

use crate::types::ColumnType;
use arrow_schema::{Schema, SchemaRef};
use rusqlite::types::Value;
use std::sync::Arc;

/// The schema of a result whose columns are `(name, declared type)`.
pub(super) fn schema(
    columns: &[(String, Option<String>)],
    first_rows: &[Vec<Value>],
) -> (SchemaRef, Vec<ColumnType>) {
    let mut fields = Vec::with_capacity(columns.len());
    let mut types = Vec::with_capacity(columns.len());
    for (i, (name, declared)) in columns.iter().enumerate() {
        let ty = declared
            .as_deref()
            .and_then(from_declared)
            .unwrap_or_else(|| from_values(first_rows.iter().map(|r| &r[i])));
        let shown = declared.clone().unwrap_or_else(|| "(expression)".into());
        fields.push(ty.field(name, &shown));
        types.push(ty);
    }
    (Arc::new(Schema::new(fields)), types)
}

/// The type a declaration gives, by SQLite's affinity rules (section 3.1 of
/// "Datatypes In SQLite"), or `None` for NUMERIC and BLOB-less declarations,
/// which hold whatever they are given.
fn from_declared(declared: &str) -> Option<ColumnType> {
    let d = declared.to_ascii_uppercase();
    if d.starts_with("BOOL") {
        Some(ColumnType::Boolean)
    } else if d.contains("INT") {
        Some(ColumnType::Int64)
    } else if d.contains("JSON") {
        Some(ColumnType::Json)
    } else if d.contains("CHAR") || d.contains("CLOB") || d.contains("TEXT") {
        Some(ColumnType::Text)
    } else if d.contains("BLOB") {
        Some(ColumnType::Binary)
    } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
        Some(ColumnType::Float64)
    } else if d.contains("DATE") || d.contains("TIME") {
        // Stored as text in the formats SQLite's date functions use.
        Some(ColumnType::Text)
    } else {
        None
    }
}

fn from_values<'a>(values: impl Iterator<Item = &'a Value>) -> ColumnType {
    let (mut integers, mut reals) = (false, false);
    for value in values {
        match value {
            Value::Null => {}
            Value::Integer(_) => integers = true,
            Value::Real(_) => reals = true,
            Value::Text(_) => return ColumnType::Text,
            Value::Blob(_) => return ColumnType::Binary,
        }
    }
    match (integers, reals) {
        // Integers and reals mixed (NUMERIC affinity) are read as reals.
        (_, true) => ColumnType::Float64,
        (true, false) => ColumnType::Int64,
        // Only nulls: text holds anything that comes later but blobs.
        (false, false) => ColumnType::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_follow_affinity() {
        assert_eq!(from_declared("BIGINT"), Some(ColumnType::Int64));
        assert_eq!(from_declared("varchar(20)"), Some(ColumnType::Text));
        assert_eq!(from_declared("DOUBLE PRECISION"), Some(ColumnType::Float64));
        assert_eq!(from_declared("boolean"), Some(ColumnType::Boolean));
        assert_eq!(from_declared("NUMERIC(10,2)"), None);
    }

    #[test]
    fn undeclared_types_come_from_the_first_values() {
        let rows = [
            vec![Value::Null],
            vec![Value::Integer(1)],
            vec![Value::Real(1.5)],
        ];
        let cols = [("x".to_string(), None)];
        let (shape, types) = schema(&cols, &rows);
        assert_eq!(types, vec![ColumnType::Float64]);
        assert_eq!(
            shape.field(0).metadata()[crate::DB_TYPE_KEY],
            "(expression)"
        );
        let (_, types) = schema(&cols, &[vec![Value::Null]]);
        assert_eq!(types, vec![ColumnType::Text]);
    }
}
