//! A Lambda function written against the official `lambda_runtime` crate with no
//! Sluice-specific code, so it runs unchanged on AWS Lambda and on Sluice.
//!
//! Behaviour is chosen by the event, so one binary covers the tests and the
//! benchmark: `{"echo": X}` returns `{"echo": X, "request_id", "function"}`,
//! `{"fail": "msg"}` returns an error reported through `/error`, anything else
//! is echoed back.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[derive(Debug)]
struct HandlerFailure(String);

impl std::fmt::Display for HandlerFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HandlerFailure {}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    if let Some(message) = payload.get("fail").and_then(Value::as_str) {
        return Err(Box::new(HandlerFailure(message.to_string())));
    }
    if payload.get("echo").is_some() {
        return Ok(json!({
            "echo": payload["echo"],
            "request_id": context.request_id,
            "function": std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default(),
            "deadline_ms": context.deadline,
        }));
    }
    Ok(payload)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
