//! Intermediate results passed by reference: a step's output larger than
//! [`INLINE_OUTPUT_LIMIT`] is stored as an object in the payload bucket and
//! the step (and, for the last phase, the run) records only a reference,
//! `{"sluice_payload_ref": {"bucket", "key", "size"}}`. The next phase, the
//! gathering of a fan-out and a resumed run resolve it back to the full value
//! before use, so handlers never see the difference and the state store never
//! holds multi-megabyte rows.

use crate::engine::Engine;
use crate::plan::PAYLOAD_BUCKET;
use futures::StreamExt;
use serde_json::{json, Value};

/// Outputs up to this size stay inline in the state store.
pub const INLINE_OUTPUT_LIMIT: usize = 256 * 1024;

/// The bucket and key of a payload reference, if `value` is one.
pub fn payload_ref(value: &Value) -> Option<(&str, &str)> {
    let object = value.as_object()?;
    if object.len() != 1 {
        return None;
    }
    let reference = object.get("sluice_payload_ref")?;
    Some((reference["bucket"].as_str()?, reference["key"].as_str()?))
}

impl Engine {
    /// The value to record for a step's output: itself, or a reference to
    /// it stored in the payload bucket when it is large (and buckets are served).
    pub(crate) async fn output_by_reference(
        &self,
        run_id: &str,
        step: &str,
        output: Value,
    ) -> Result<Value, String> {
        let Some(objects) = self.inner.objects.get() else {
            return Ok(output);
        };
        let bytes =
            serde_json::to_vec(&output).map_err(|e| format!("cannot encode the output: {e}"))?;
        if bytes.len() <= INLINE_OUTPUT_LIMIT {
            return Ok(output);
        }
        let size = bytes.len();
        // Steps of a fan-out are named `PHASE[i]`; keys keep them readable.
        let key = format!("{run_id}/outputs/{}.json", step.replace(['[', ']'], "_"));
        objects
            .put_bytes(PAYLOAD_BUCKET, &key, bytes, "application/json")
            .await
            .map_err(|e| {
                format!(
                    "cannot store the {size}-byte output of `{step}` in `{PAYLOAD_BUCKET}`: {e}"
                )
            })?;
        tracing::info!(run_id, step, size, key, "output stored by reference");
        Ok(json!({ "sluice_payload_ref": { "bucket": PAYLOAD_BUCKET, "key": key, "size": size } }))
    }

    /// The full value behind a reference (anything else is returned as is).
    pub(crate) async fn resolve_payload(&self, value: Value) -> Result<Value, String> {
        let Some((bucket, key)) = payload_ref(&value) else {
            return Ok(value);
        };
        let objects =
            self.inner.objects.get().ok_or_else(|| {
                format!("cannot read s3://{bucket}/{key}: buckets are not served")
            })?;
        let body = objects
            .get_object(bucket, key, &Default::default())
            .await
            .map_err(|e| format!("cannot read the stored payload s3://{bucket}/{key}: {e}"))?;
        let mut bytes = Vec::with_capacity(body.version.size as usize);
        let mut stream = body.bytes;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| format!("reading s3://{bucket}/{key}: {e}"))?;
            bytes.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("s3://{bucket}/{key} is not JSON: {e}"))
    }

    /// Resolves every reference among the items of a gathered list.
    pub(crate) async fn resolve_items(&self, list: Value) -> Result<Value, String> {
        let Value::Array(items) = list else {
            return self.resolve_payload(list).await;
        };
        let mut resolved = Vec::with_capacity(items.len());
        for item in items {
            resolved.push(self.resolve_payload(item).await?);
        }
        Ok(Value::Array(resolved))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_reference_shape_is_a_reference() {
        let reference = json!({ "sluice_payload_ref": { "bucket": "b", "key": "k", "size": 3 } });
        assert_eq!(payload_ref(&reference), Some(("b", "k")));
        for not_one in [
            json!({ "sluice_payload_ref": { "bucket": "b" } }),
            json!({ "sluice_payload_ref": { "bucket": "b", "key": "k" }, "other": 1 }),
            json!(["sluice_payload_ref"]),
            json!("sluice_payload_ref"),
        ] {
            assert_eq!(payload_ref(&not_one), None, "{not_one}");
        }
    }
}
