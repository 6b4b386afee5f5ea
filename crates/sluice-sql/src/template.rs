//! Query templates: `{{ name }}` in a SQL text is replaced by the value
//! `name` as an SQL literal of the warehouse's dialect (strings quoted and
//! escaped, numbers bare), so a template value is always data, never SQL.
//! Dotted names reach into maps (`{{ params.region }}`).
//!
//! The rendered text remembers where each replacement came from, so a
//! position the database reports in the rendered query maps back to the
//! line and column of the file the user wrote.

use crate::dialect::Dialect;
use crate::error::Position;
use serde_json::Value;
use std::collections::BTreeMap;
use std::ops::Range;
use thiserror::Error;

/// A template that cannot be rendered, and where.
#[derive(Debug, Error, PartialEq)]
#[error("line {}, column {}: {message}", position.line, position.column)]
pub struct TemplateError {
    pub position: Position,
    pub message: String,
}

/// A rendered query and the map back to its source.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub sql: String,
    /// (range in the rendered text, range in the source) of each replacement.
    replacements: Vec<(Range<usize>, Range<usize>)>,
}

impl Rendered {
    /// The byte offset in the source of byte `offset` of the rendered text;
    /// an offset inside a replacement maps to the start of its `{{`.
    pub fn source_offset(&self, offset: usize) -> usize {
        let mut shift: isize = 0;
        for (rendered, source) in &self.replacements {
            if offset < rendered.start {
                break;
            }
            if offset < rendered.end {
                return source.start;
            }
            shift = source.end as isize - rendered.end as isize;
        }
        (offset as isize + shift).max(0) as usize
    }

    /// A position in the rendered text as a position in `source`.
    pub fn source_position(&self, source: &str, rendered: &Position) -> Position {
        Position::at_byte(source, self.source_offset(rendered.offset))
    }
}

/// Renders `source`, replacing every `{{ name }}` by `values[name]` as a literal.
pub fn render(
    source: &str,
    values: &BTreeMap<String, Value>,
    dialect: Dialect,
) -> Result<Rendered, TemplateError> {
    let mut sql = String::with_capacity(source.len());
    let mut replacements = Vec::new();
    let mut rest = 0;
    while let Some(found) = source[rest..].find("{{") {
        let start = rest + found;
        sql.push_str(&source[rest..start]);
        let Some(len) = source[start..].find("}}") else {
            return Err(TemplateError {
                position: Position::at_byte(source, start),
                message: "`{{` is not closed by `}}`".into(),
            });
        };
        let end = start + len + 2;
        let name = source[start + 2..end - 2].trim();
        let value = lookup(values, name).ok_or_else(|| TemplateError {
            position: Position::at_byte(source, start),
            message: unknown_name(name, values),
        })?;
        let literal = dialect.literal(value);
        replacements.push((sql.len()..sql.len() + literal.len(), start..end));
        sql.push_str(&literal);
        rest = end;
    }
    sql.push_str(&source[rest..]);
    Ok(Rendered { sql, replacements })
}

fn lookup<'a>(values: &'a BTreeMap<String, Value>, name: &str) -> Option<&'a Value> {
    let mut parts = name.split('.');
    let mut value = values.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

fn unknown_name(name: &str, values: &BTreeMap<String, Value>) -> String {
    let mut known: Vec<String> = Vec::new();
    for (key, value) in values {
        match value.as_object() {
            Some(map) => known.extend(map.keys().map(|k| format!("{key}.{k}"))),
            None => known.push(key.clone()),
        }
    }
    if name.is_empty() {
        return format!(
            "empty template `{{{{}}}}`; known values: {}",
            known.join(", ")
        );
    }
    format!(
        "unknown template value `{name}`; known values: {}",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values() -> BTreeMap<String, Value> {
        let mut v = BTreeMap::new();
        v.insert("date".into(), json!("2024-05-01"));
        v.insert("params".into(), json!({ "region": "o'hare", "limit": 10 }));
        v
    }

    #[test]
    fn values_become_literals() {
        let r = render(
            "SELECT * FROM t WHERE d = {{ date }} AND r = {{params.region}} LIMIT {{ params.limit }}",
            &values(),
            Dialect::Postgres,
        )
        .unwrap();
        assert_eq!(
            r.sql,
            "SELECT * FROM t WHERE d = '2024-05-01' AND r = 'o''hare' LIMIT 10"
        );
    }

    #[test]
    fn positions_map_back_to_the_source() {
        let source = "SELECT {{ date }},\n  nope FROM t";
        let r = render(source, &values(), Dialect::Postgres).unwrap();
        let at = Position::at_byte(&r.sql, r.sql.find("nope").unwrap());
        let back = r.source_position(source, &at);
        assert_eq!((back.line, back.column), (2, 3));
        // inside a replacement: the start of its `{{`
        assert_eq!(r.source_offset(r.sql.find("2024").unwrap()), 7);
        assert_eq!(r.source_offset(0), 0);
    }

    #[test]
    fn unknown_and_unclosed_templates_say_where() {
        let e = render("SELECT\n {{ dat }}", &values(), Dialect::Sqlite).unwrap_err();
        assert_eq!((e.position.line, e.position.column), (2, 2));
        assert!(e.message.contains("unknown template value `dat`"), "{e}");
        assert!(
            e.message.contains("date, params.limit, params.region"),
            "{e}"
        );
        let e = render("SELECT {{ date", &values(), Dialect::Sqlite).unwrap_err();
        assert!(e.message.contains("not closed"), "{e}");
    }
}
