//! Collecting diagnostics with their positions.

use crate::diagnostic::{closest, Diagnostic, Severity};
use crate::locate::{At, Index, Pos, YamlPath};

/// Collects diagnostics for one file, turning paths into positions.
pub(crate) struct Reporter<'a> {
    pub file: &'a str,
    pub index: &'a Index,
    pub diags: Vec<Diagnostic>,
}

impl<'a> Reporter<'a> {
    pub fn new(file: &'a str, index: &'a Index) -> Self {
        Reporter {
            file,
            index,
            diags: Vec::new(),
        }
    }

    pub fn push_at(
        &mut self,
        severity: Severity,
        pos: Pos,
        path: &YamlPath,
        message: String,
        suggestion: Option<String>,
    ) {
        self.diags.push(Diagnostic {
            severity,
            file: self.file.to_string(),
            line: pos.line,
            column: pos.column,
            path: path.to_string(),
            message,
            suggestion,
        });
    }

    /// An error at the value of `path`.
    pub fn error(&mut self, path: &YamlPath, message: impl Into<String>) {
        self.error_with(path, At::Value, message, None);
    }

    /// An error at the key of `path` (e.g. an invalid name).
    pub fn error_key(&mut self, path: &YamlPath, message: impl Into<String>) {
        self.error_with(path, At::Key, message, None);
    }

    pub fn error_with(
        &mut self,
        path: &YamlPath,
        at: At,
        message: impl Into<String>,
        suggestion: Option<String>,
    ) {
        let pos = self.index.locate(path, at);
        self.push_at(Severity::Error, pos, path, message.into(), suggestion);
    }

    pub fn warning(&mut self, path: &YamlPath, message: impl Into<String>) {
        let pos = self.index.locate(path, At::Value);
        self.push_at(Severity::Warning, pos, path, message.into(), None);
    }

    /// A reference to a `kind` named `name` that is not among `declared`:
    /// an error at `path` with the closest declared name as suggestion.
    pub fn check_ref<'n, I>(&mut self, path: &YamlPath, at: At, kind: &str, name: &str, declared: I)
    where
        I: IntoIterator<Item = &'n String> + Clone,
    {
        if declared.clone().into_iter().any(|d| d == name) {
            return;
        }
        let names: Vec<&str> = declared.into_iter().map(String::as_str).collect();
        let suggestion = closest(name, names.iter().copied());
        let mut message = format!("no {kind} named `{name}` is declared");
        if suggestion.is_none() {
            if names.is_empty() {
                message.push_str(&format!(" (the project declares no {kind}s)"));
            } else if names.len() <= 8 {
                message.push_str(&format!(" (declared: {})", names.join(", ")));
            }
        }
        self.error_with(path, at, message, suggestion);
    }

    /// An error for a value not among `valid`, suggesting the closest one.
    pub fn check_one_of(
        &mut self,
        path: &YamlPath,
        what: &str,
        value: &str,
        valid: &[&str],
    ) -> bool {
        if valid.contains(&value) {
            return true;
        }
        let suggestion = closest(value, valid.iter().copied());
        let mut message = format!("unknown {what} `{value}`");
        if suggestion.is_none() {
            message.push_str(&format!("; expected one of: {}", valid.join(", ")));
        }
        self.error_with(path, At::Value, message, suggestion);
        false
    }

    /// Diagnostics in file order (errors before warnings at the same place).
    pub fn finish(mut self) -> Vec<Diagnostic> {
        self.diags.sort_by_key(|d| (d.line, d.column, d.severity));
        self.diags.dedup();
        self.diags
    }
}
