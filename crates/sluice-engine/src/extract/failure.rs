//! An extract's failures as the run shows them: the message names the SQL
//! file and, when the database says where, the line and column in the file
//! as the user wrote it (template values mapped back); the log shows the
//! offending line with a caret under the spot.

use super::context::SqlFile;
use crate::invoke::StepFailure;
use crate::logs::RunLog;
use serde_json::json;
use sluice_core::AttemptStatus;
use sluice_sql::output::ExportError;
use sluice_sql::template::{Rendered, TemplateError};
use sluice_sql::{Position, SqlError};

fn kind(error: &SqlError) -> &'static str {
    match error {
        SqlError::Config { .. } => "ConnectionConfig",
        SqlError::Connect { .. } => "ConnectError",
        SqlError::Tls { .. } => "TlsError",
        SqlError::Query { .. } => "QueryError",
        SqlError::UnsupportedType { .. } => "UnsupportedType",
        SqlError::Value { .. } => "ValueError",
        SqlError::NoResultSet => "NoResultSet",
        SqlError::Timeout { .. } => "QueryTimeout",
        SqlError::Interrupted(_) => "Interrupted",
    }
}

/// Logs the line of `text` at `p` with a caret under its column.
fn show_line(log: &RunLog, text: &str, p: &Position) {
    let line = text.lines().nth(p.line - 1).unwrap_or_default();
    log.note(format!("  {:>4} | {line}", p.line));
    log.note(format!(
        "       | {}^",
        " ".repeat(p.column.saturating_sub(1))
    ));
}

fn failure(
    error_type: &str,
    message: String,
    sql: &SqlFile,
    position: Option<Position>,
    log: &RunLog,
) -> StepFailure {
    // The delivery logs the message itself (`attempt failed: …`); this adds
    // where in the file.
    if let Some(p) = &position {
        show_line(log, &sql.text, p);
    }
    StepFailure {
        status: AttemptStatus::Failed,
        exit_code: None,
        detail: Some(json!({
            "errorType": error_type,
            "errorMessage": message,
            "sql": { "bucket": sql.bucket, "key": sql.key, "version_id": sql.version_id },
            "line": position.map(|p| p.line),
            "column": position.map(|p| p.column),
        })),
        message,
    }
}

pub(super) fn template(
    file: &str,
    sql: &SqlFile,
    error: TemplateError,
    log: &RunLog,
) -> StepFailure {
    let p = error.position;
    let message = format!("{file}:{}:{}: {}", p.line, p.column, error.message);
    failure("TemplateError", message, sql, Some(p), log)
}

pub(super) fn query(
    file: &str,
    sql: &SqlFile,
    rendered: &Rendered,
    error: SqlError,
    log: &RunLog,
) -> StepFailure {
    let position = error
        .position()
        .map(|p| rendered.source_position(&sql.text, p));
    let message = match (&error, position) {
        (SqlError::Query { message, code, .. }, Some(p)) => {
            let code = code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default();
            format!("{file}:{}:{}: {message}{code}", p.line, p.column)
        }
        _ => format!("{file}: {error}"),
    };
    failure(kind(&error), message, sql, position, log)
}

pub(super) fn export(
    file: &str,
    sql: &SqlFile,
    rendered: &Rendered,
    error: ExportError,
    log: &RunLog,
) -> StepFailure {
    match error {
        ExportError::Query(e) => {
            let failed = query(file, sql, rendered, e, log);
            log.note("nothing was written: the result is stored only when the query completes");
            failed
        }
        other => failure("ExportError", format!("{file}: {other}"), sql, None, log),
    }
}
