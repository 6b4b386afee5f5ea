//! How each database writes a value as an SQL literal, so that values put
//! into a query by a template can never end its string early (no injection),
//! whatever the server's settings.

use serde_json::Value;

/// The SQL dialect of a warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// `text` as a string literal.
    ///
    /// PostgreSQL: `'…'` with quotes doubled, or `E'…'` with backslashes
    /// doubled too when there are any, which reads the same whatever
    /// `standard_conforming_strings` says. MySQL/MariaDB: `'…'` with quotes
    /// doubled when there is no backslash, otherwise a hexadecimal literal
    /// with the utf8mb4 introducer, which no `sql_mode` reinterprets.
    /// SQLite: `'…'` with quotes doubled (it has no backslash escapes).
    pub fn quote_literal(self, text: &str) -> String {
        let doubled = text.replace('\'', "''");
        match self {
            Dialect::Postgres if text.contains('\\') => {
                format!("E'{}'", doubled.replace('\\', "\\\\"))
            }
            Dialect::MySql if text.contains('\\') => {
                let hex: String = text.bytes().map(|b| format!("{b:02X}")).collect();
                format!("_utf8mb4 X'{hex}'")
            }
            _ => format!("'{doubled}'"),
        }
    }

    /// A JSON value as an SQL literal: strings quoted, numbers as written,
    /// booleans `TRUE`/`FALSE`, null `NULL`, lists and maps as their JSON text.
    pub fn literal(self, value: &Value) -> String {
        match value {
            Value::Null => "NULL".into(),
            Value::Bool(true) => "TRUE".into(),
            Value::Bool(false) => "FALSE".into(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => self.quote_literal(s),
            other => self.quote_literal(&other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_cannot_end_their_string_early() {
        let nasty = "it's \\' OR 1=1 --";
        assert_eq!(
            Dialect::Postgres.quote_literal(nasty),
            "E'it''s \\\\'' OR 1=1 --'"
        );
        assert_eq!(
            Dialect::Sqlite.quote_literal(nasty),
            "'it''s \\'' OR 1=1 --'"
        );
        let my = Dialect::MySql.quote_literal(nasty);
        assert!(my.starts_with("_utf8mb4 X'69742773"), "{my}");
        assert_eq!(Dialect::MySql.quote_literal("plain"), "'plain'");
    }

    #[test]
    fn json_values_become_literals() {
        let d = Dialect::Postgres;
        assert_eq!(d.literal(&json!(null)), "NULL");
        assert_eq!(d.literal(&json!(true)), "TRUE");
        assert_eq!(d.literal(&json!(12.5)), "12.5");
        assert_eq!(d.literal(&json!("eu")), "'eu'");
        assert_eq!(d.literal(&json!(["a"])), "'[\"a\"]'");
    }
}
