//! A reused `Idempotency-Key`.
//!
//! A repeated submission with the same key returns the first run, so a
//! client that retries after a lost answer never starts the work twice.
//! The same key with a different body is not a retry but a client bug (two
//! tasks under one key), and answering with the first run would silently
//! drop the second task: it is refused with `422`, as the IETF
//! Idempotency-Key draft says, naming the run the key belongs to.

use crate::ApiError;
use axum::http::StatusCode;
use serde_json::Value;
use sluice_engine::Engine;

/// `Err` when the run a key led back to was started with another input.
pub async fn check_same_input(
    engine: &Engine,
    key: &str,
    run_id: &str,
    input: &Value,
) -> Result<(), ApiError> {
    let run = engine.store().get_run(run_id).await?;
    if &run.input == input {
        return Ok(());
    }
    Err(ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "idempotency_key_reused",
        message: format!(
            "Idempotency-Key `{key}` was first used for run {run_id} with a different body; \
             send a new key for a new task (or the same body to get that run back)"
        ),
    })
}
