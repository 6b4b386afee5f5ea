//! Errors the engine reports to its callers (the HTTP edge maps them to status codes).

use sluice_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum EngineError {
    /// No function, pipeline or queue of that name is declared in the project.
    #[error("no {kind} named `{name}` in the project{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownTarget {
        kind: &'static str,
        name: String,
        suggestion: Option<String>,
    },

    /// The request is well-formed but not allowed in the current state.
    #[error("{0}")]
    Invalid(String),

    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EngineError {
    /// An unknown-name error with the closest declared name as a suggestion.
    pub fn unknown<'a>(
        kind: &'static str,
        name: &str,
        known: impl Iterator<Item = &'a String>,
    ) -> Self {
        let suggestion = known
            .map(|k| (strsim::jaro_winkler(k, name), k))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, k)| k.clone());
        EngineError::UnknownTarget {
            kind,
            name: name.to_string(),
            suggestion,
        }
    }
}
