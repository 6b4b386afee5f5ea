//! What can go wrong talking to a database, in terms a user can act on: the
//! connection cannot be made (or not with the TLS asked for), the database
//! refused the query (with where in the SQL text, when it says), a column has
//! a type no output format can hold, or a value does not fit its column.

use std::time::Duration;
use thiserror::Error;

/// An error of a connection or a query.
#[derive(Debug, Error)]
pub enum SqlError {
    /// The connection's declaration cannot be used as it stands.
    #[error("connection `{connection}`: {reason}")]
    Config { connection: String, reason: String },
    /// The database cannot be reached or refused the login.
    #[error("connection `{connection}` ({target}): cannot connect: {reason}")]
    Connect {
        connection: String,
        /// The URL without secrets.
        target: String,
        reason: String,
    },
    /// The TLS mode asked for cannot be honoured; never silently downgraded.
    #[error("connection `{connection}` ({target}): TLS mode `{mode}`: {reason}")]
    Tls {
        connection: String,
        target: String,
        mode: String,
        reason: String,
    },
    /// The database refused or aborted the query.
    #[error("{}", query_message(message, code.as_deref(), position.as_ref()))]
    Query {
        message: String,
        /// SQLSTATE or the database's error number.
        code: Option<String>,
        /// Where in the SQL text, when the database says.
        position: Option<Position>,
    },
    /// A result column has a type that cannot be written faithfully.
    #[error("column `{column}` has the database type `{db_type}`, which sql-extract cannot map to an output type; convert it in the query, e.g. `CAST({column} AS {cast_to})`")]
    UnsupportedType {
        column: String,
        db_type: String,
        /// A type of this database the column could be cast to.
        cast_to: &'static str,
    },
    /// A value does not fit the type of its column.
    #[error("row {row}, column `{column}`: {reason}")]
    Value {
        /// 1-based.
        row: u64,
        column: String,
        reason: String,
    },
    /// The statement returned no result set (an UPDATE, say).
    #[error("the statement returned no rows to extract; sql-extract runs one SELECT (or WITH … SELECT) per file")]
    NoResultSet,
    /// The query ran past the connection's `query_timeout`.
    #[error("the query ran longer than the connection's query_timeout ({}) and was cancelled", humanize(*after))]
    Timeout { after: Duration },
    /// The process is stopping, or a worker task died.
    #[error("the query was interrupted: {0}")]
    Interrupted(String),
}

impl SqlError {
    /// The position in the SQL text the database pointed at, if any.
    pub fn position(&self) -> Option<&Position> {
        match self {
            SqlError::Query { position, .. } => position.as_ref(),
            _ => None,
        }
    }

    /// The same error with its position replaced (after mapping it from the
    /// text sent to the database back to the text the user wrote).
    pub fn with_position(self, new: Option<Position>) -> SqlError {
        match self {
            SqlError::Query { message, code, .. } => SqlError::Query {
                message,
                code,
                position: new,
            },
            other => other,
        }
    }

    /// The database's own message, without Sluice's decoration.
    pub fn database_message(&self) -> Option<&str> {
        match self {
            SqlError::Query { message, .. } => Some(message),
            _ => None,
        }
    }
}

fn query_message(message: &str, code: Option<&str>, position: Option<&Position>) -> String {
    let mut text = message.to_string();
    if let Some(code) = code {
        text.push_str(&format!(" ({code})"));
    }
    if let Some(p) = position {
        text.push_str(&format!(" at line {}, column {}", p.line, p.column));
    }
    text
}

fn humanize(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// A place in a SQL text: a byte offset and its 1-based line and column
/// (the column counts characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` of `text` (clamped to its end and to a
    /// character boundary).
    pub fn at_byte(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        Position {
            offset,
            line,
            column,
        }
    }

    /// The position of the `n`th character (1-based), as PostgreSQL counts.
    pub fn at_char(text: &str, n: usize) -> Position {
        let offset = text
            .char_indices()
            .nth(n.saturating_sub(1))
            .map_or(text.len(), |(i, _)| i);
        Position::at_byte(text, offset)
    }

    /// The start of 1-based line `line`.
    pub fn line_start(text: &str, line: usize) -> Position {
        let offset = if line <= 1 {
            0
        } else {
            text.match_indices('\n')
                .nth(line - 2)
                .map_or(text.len(), |(i, _)| i + 1)
        };
        Position::at_byte(text, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let sql = "SELECT 1,\n  é, x\nFROM t";
        let p = Position::at_byte(sql, sql.find('x').unwrap());
        assert_eq!((p.line, p.column), (2, 6));
        assert_eq!(Position::at_char(sql, 1), Position::at_byte(sql, 0));
        let q = Position::at_char(sql, 16);
        assert_eq!((q.line, q.column), (2, 6), "characters, not bytes");
        assert_eq!(
            Position::line_start(sql, 3).offset,
            sql.find("FROM").unwrap()
        );
        assert_eq!(Position::at_byte(sql, 999).offset, sql.len());
    }

    #[test]
    fn query_errors_say_where() {
        let e = SqlError::Query {
            message: "syntax error at or near \"FROM\"".into(),
            code: Some("42601".into()),
            position: Some(Position::at_byte("a\nb", 2)),
        };
        assert_eq!(
            e.to_string(),
            "syntax error at or near \"FROM\" (42601) at line 2, column 1"
        );
    }
}
