//! Executes one step: a call to a function's runtime, or a built-in step.

use crate::engine::Engine;
use crate::logs::RunLog;
use crate::plan::{PhaseAction, PAYLOAD_BUCKET};
use serde_json::json;
use serde_json::Value;
use sluice_core::AttemptStatus;
use sluice_runtime::{ErrorKind, HandlerError, Invocation, InvocationResult};
use sluice_store::AttemptRecord;
use std::sync::Arc;
use std::time::Instant;

/// Why an attempt failed, as recorded on it.
pub(crate) struct StepFailure {
    pub status: AttemptStatus,
    pub message: String,
    pub exit_code: Option<i32>,
    /// The error in structured form, stored as the failed attempt's output.
    pub detail: Option<Value>,
}

impl StepFailure {
    pub(crate) fn failed(message: String) -> Self {
        StepFailure {
            status: AttemptStatus::Failed,
            message,
            exit_code: None,
            detail: None,
        }
    }
}

pub(crate) async fn invoke_step(
    engine: &Engine,
    run_id: &str,
    step: &str,
    attempt: &AttemptRecord,
    action: &PhaseAction,
    input: Value,
    log: &Arc<RunLog>,
) -> Result<Value, StepFailure> {
    match action {
        PhaseAction::Function(name) => {
            invoke_function(engine, run_id, step, &attempt.id, name, input, log).await
        }
        PhaseAction::Builtin { name, with } if name == "move" || name == "copy" => {
            let result = engine.move_or_copy(name, with, &input).await;
            match &result {
                Ok(out) => log.note(format!(
                    "{name}d s3://{}/{} to s3://{}/{}",
                    out["source"]["bucket"].as_str().unwrap_or("?"),
                    out["source"]["key"].as_str().unwrap_or("?"),
                    out["bucket"].as_str().unwrap_or("?"),
                    out["key"].as_str().unwrap_or("?")
                )),
                Err(e) => log.note(format!("{name} failed: {e}")),
            }
            result.map_err(StepFailure::failed)
        }
        PhaseAction::Builtin { name, with } if name == "csv-load" => {
            let params: sluice_spec::CsvLoad = serde_json::from_value(with.clone())
                .map_err(|e| StepFailure::failed(format!("csv-load parameters: {e}")))?;
            engine
                .csv_load(&params, &input, run_id, log)
                .await
                .map_err(|e| {
                    log.note(format!("csv-load failed: {e}"));
                    StepFailure::failed(e)
                })
        }
        PhaseAction::Builtin { name, with } if name == "table-put" => {
            let params: sluice_spec::TablePut = serde_json::from_value(with.clone())
                .map_err(|e| StepFailure::failed(format!("table-put parameters: {e}")))?;
            engine
                .table_put(&params, &input, run_id, step, log)
                .await
                .map_err(|e| {
                    log.note(format!("table-put failed: {e}"));
                    StepFailure::failed(e)
                })
        }
        PhaseAction::Builtin { name, with } if name == "notify" => {
            let params: sluice_spec::Notify = serde_json::from_value(with.clone())
                .map_err(|e| StepFailure::failed(format!("notify parameters: {e}")))?;
            engine
                .notify_step(&params, &input, run_id, step, log)
                .await
                .map_err(StepFailure::failed)
        }
        PhaseAction::Builtin { name, with } if name == "pass" => Ok(match with {
            Value::Null => input,
            template => sluice_core::transform::apply_template(template, &input),
        }),
        PhaseAction::Builtin { name, with } if name == "sql-extract" => {
            engine
                .sql_extract(run_id, step, attempt.number, with, &input, log)
                .await
        }
        PhaseAction::Builtin { name, .. } => Err(StepFailure::failed(format!(
            "built-in step `{name}` is not available in this version of Sluice"
        ))),
        PhaseAction::Deliver { topic } => {
            engine
                .deliver(topic, run_id, &input, log)
                .await
                .map_err(|e| {
                    log.note(format!("delivery failed: {e}"));
                    StepFailure::failed(e)
                })
        }
    }
}

async fn invoke_function(
    engine: &Engine,
    run_id: &str,
    step: &str,
    attempt_id: &str,
    function: &str,
    payload: Value,
    log: &Arc<RunLog>,
) -> Result<Value, StepFailure> {
    let plan = engine
        .function(function)
        .map_err(|e| StepFailure::failed(e.to_string()))?;
    let slots = engine.inner.function_slots.get(function).cloned();
    let _slot = match &slots {
        Some(s) => Some(
            s.acquire()
                .await
                .map_err(|_| StepFailure::failed("engine is shutting down".into()))?,
        ),
        None => None,
    };
    let payload = match plan.max_payload_bytes {
        Some(limit) => {
            by_reference_if_larger(engine, run_id, attempt_id, payload, limit, log).await?
        }
        None => payload,
    };
    let invocation = Invocation {
        // The attempt id is the request id, so every log line of an
        // invocation carries it (as `attempt_id`).
        request_id: attempt_id.to_string(),
        run_id: run_id.to_string(),
        step: step.to_string(),
        attempt_id: attempt_id.to_string(),
        function: function.to_string(),
        payload,
        deadline: Instant::now() + plan.timeout,
    };
    match plan.runtime.invoke(invocation, log.clone()).await {
        InvocationResult::Succeeded { output, timing } => {
            let start = if timing.cold_start {
                format!("cold start, init {:.1} ms", timing.init_us as f64 / 1000.0)
            } else {
                "warm".to_string()
            };
            log.note(format!(
                "attempt succeeded: the handler ran {:.1} ms ({start}, spawn {:.2} ms)",
                timing.handler_us as f64 / 1000.0,
                timing.spawn_us as f64 / 1000.0
            ));
            Ok(output)
        }
        InvocationResult::Failed { error, .. } => Err(failure_of(error)),
    }
}

/// An attempt's failure from a handler error. The structured form, kept as
/// the attempt's output, has the shape AWS reports (`errorType`,
/// `errorMessage`, `stackTrace`), so handlers' errors survive intact.
fn failure_of(error: HandlerError) -> StepFailure {
    let status = match error.kind {
        ErrorKind::TimedOut { .. } => AttemptStatus::TimedOut,
        _ => AttemptStatus::Failed,
    };
    let (message, detail) = match &error.kind {
        ErrorKind::HandlerReported {
            error_type,
            stack_trace,
        } => (
            format!("{error_type}: {}", error.message),
            json!({ "errorType": error_type, "errorMessage": error.message, "stackTrace": stack_trace }),
        ),
        kind => (
            error.message.clone(),
            json!({ "errorType": kind.code(), "errorMessage": error.message }),
        ),
    };
    StepFailure {
        status,
        message,
        exit_code: error.exit_code,
        detail: Some(detail),
    }
}

/// An event larger than the runtime takes inline is stored as an object in
/// the payload bucket and handed over as a reference the handler can read
/// with its credentials, instead of being refused.
async fn by_reference_if_larger(
    engine: &Engine,
    run_id: &str,
    attempt_id: &str,
    payload: Value,
    limit: usize,
    log: &Arc<RunLog>,
) -> Result<Value, StepFailure> {
    let bytes = serde_json::to_vec(&payload)
        .map_err(|e| StepFailure::failed(format!("cannot encode the event: {e}")))?;
    if bytes.len() <= limit {
        return Ok(payload);
    }
    let Some(objects) = engine.inner.objects.get() else {
        return Ok(payload); // no buckets: the runtime refuses it with a clear error
    };
    let key = format!("{run_id}/{attempt_id}.json");
    let size = bytes.len();
    objects
        .put_bytes(PAYLOAD_BUCKET, &key, bytes, "application/json")
        .await
        .map_err(|e| {
            StepFailure::failed(format!(
                "cannot store the {size}-byte event in `{PAYLOAD_BUCKET}`: {e}"
            ))
        })?;
    log.note(format!("the event ({size} bytes) is larger than {limit} bytes; passed by reference as s3://{PAYLOAD_BUCKET}/{key}"));
    Ok(json!({ "sluice_payload_ref": { "bucket": PAYLOAD_BUCKET, "key": key, "size": size } }))
}
