//! Errors a store operation can return, by what the caller can do about them.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// The named thing does not exist (a run, a queue, an attempt).
    #[error("{kind} `{id}` not found")]
    NotFound { kind: &'static str, id: String },

    /// The receipt is stale: the message was delivered again, acked, or dead-lettered.
    #[error(
        "lease lost on message `{message_id}`: it was redelivered, acked or dead-lettered since"
    )]
    LeaseLost { message_id: String },

    /// The request conflicts with the current state (e.g. rerunning a running run).
    #[error("{0}")]
    Conflict(String),

    /// The data directory or database file is unusable (corrupt, wrong version,
    /// not writable, disk full). The message says which file and what to do.
    #[error("state store at {location}: {reason}")]
    Unusable { location: String, reason: String },

    /// Any other backend failure.
    #[error("state store: {0}")]
    Backend(String),
}

impl StoreError {
    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        StoreError::NotFound {
            kind,
            id: id.into(),
        }
    }
}
