//! Buckets meet the engine here: object events relayed from the bucket
//! outbox to their targets (or to the bus, see `object_events`), and the
//! built-in `move` and `copy` steps.
//!
//! The relay is at-least-once: an event is marked delivered only after its
//! target has accepted it, and the idempotency key `s3:EVENT_ID` makes a
//! replay after a crash start nothing new.

use crate::engine::Engine;
use crate::plan_routes::target_plan;
use serde_json::{json, Value};
use sluice_core::transform::{apply_template, lookup};
use sluice_objects::ObjectService;
use std::time::Duration;

/// Longest wait between looks at the outbox when no signal arrives.
const OUTBOX_POLL: Duration = Duration::from_secs(5);

impl Engine {
    /// Gives the engine its buckets and starts relaying their events.
    pub fn attach_objects(&self, service: ObjectService) -> tokio::task::JoinHandle<()> {
        let _ = self.inner.objects.set(service.clone());
        let engine = self.clone();
        tokio::spawn(async move {
            loop {
                let signal = service.outbox_signal();
                let delivered = engine.relay_pending(&service).await;
                if delivered == 0 {
                    let _ = tokio::time::timeout(OUTBOX_POLL, signal.notified()).await;
                }
            }
        })
    }

    /// Relays one batch of pending object events; returns how many were delivered.
    async fn relay_pending(&self, service: &ObjectService) -> usize {
        let events = match service.take_pending_events(100).await {
            Ok(events) => events,
            Err(err) => {
                tracing::error!(error = %err, "cannot read the bucket event outbox; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                return 0;
            }
        };
        let mut delivered = Vec::new();
        for event in &events {
            if crate::object_events::is_bus_target(&event.target) {
                match self.publish_object_event(event).await {
                    Ok(()) => delivered.push(event.id),
                    Err(error) => {
                        tracing::error!(bucket = %event.bucket, key = %event.key, %error, "object event not published on the bus; will retry")
                    }
                }
                continue;
            }
            let owner = format!("bucket `{}` notification", event.bucket);
            let dispatched = match target_plan(&event.target, &owner) {
                Ok(target) => {
                    let trigger = format!("bucket:{}", event.bucket);
                    self.dispatch(
                        &target,
                        &event.to_s3_event_json(),
                        trigger,
                        Some(format!("s3:{}", event.id)),
                    )
                    .await
                    .map_err(|e| e.to_string())
                }
                Err(err) => Err(err.to_string()),
            };
            match dispatched {
                Ok(d) => {
                    tracing::info!(bucket = %event.bucket, key = %event.key, event = %event.event_name, run_id = ?d.run_id, "object event delivered");
                    delivered.push(event.id);
                }
                Err(error) => {
                    tracing::error!(bucket = %event.bucket, key = %event.key, error, "object event not delivered; will retry")
                }
            }
        }
        // Only when there is something to mark: every committed catalog write
        // wakes this relay, so an empty write would keep it spinning.
        if !delivered.is_empty() {
            if let Err(err) = service.mark_delivered(&delivered).await {
                tracing::error!(error = %err, "cannot mark object events delivered; they will be relayed again (and deduplicated)");
            }
        }
        if delivered.len() < events.len() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        delivered.len()
    }

    /// The built-in `move` and `copy` steps.
    ///
    /// `with` is a template over the step's input. `to_bucket` is required;
    /// `to_key` (default: the source key, after `to_prefix` if given) names
    /// the destination. The source is `from_bucket`/`from_key`, or the first
    /// record of an S3 event input, or the input's `bucket`/`key`.
    pub(crate) async fn move_or_copy(
        &self,
        step: &str,
        with: &Value,
        input: &Value,
    ) -> Result<Value, String> {
        let service = self
            .inner
            .objects
            .get()
            .ok_or("no buckets are served by this Sluice")?;
        let params = apply_template(with, input);
        let text = |name: &str| params.get(name).and_then(Value::as_str).map(str::to_string);
        let (from_bucket, from_key) = match (text("from_bucket"), text("from_key")) {
            (Some(b), Some(k)) => (b, k),
            _ => source_of(input).ok_or(
                "no source object: set `from_bucket` and `from_key`, or give an S3 event as input",
            )?,
        };
        let to_bucket =
            text("to_bucket").ok_or(format!("`{step}` needs `with: {{ to_bucket: ... }}`"))?;
        let to_key = text("to_key")
            .unwrap_or_else(|| format!("{}{from_key}", text("to_prefix").unwrap_or_default()));
        let result = if step == "move" {
            service
                .move_object(&from_bucket, &from_key, &to_bucket, &to_key)
                .await
        } else {
            service
                .copy_object(&from_bucket, &from_key, &to_bucket, &to_key)
                .await
        };
        let version = result.map_err(|e| {
            format!("{step} s3://{from_bucket}/{from_key} to s3://{to_bucket}/{to_key}: {e}")
        })?;
        Ok(json!({
            "bucket": version.bucket,
            "key": version.key,
            "version_id": version.version_id,
            "etag": version.etag,
            "size": version.size,
            "source": { "bucket": from_bucket, "key": from_key },
        }))
    }
}

/// The object an input names: an S3 event's first record (its key decoded as
/// S3 encodes it, `+` for spaces), or `{"bucket": .., "key": ..}`.
pub(crate) fn source_of(input: &Value) -> Option<(String, String)> {
    if let (Some(Value::String(b)), Some(Value::String(k))) = (
        lookup(input, "$.Records.0.s3.bucket.name"),
        lookup(input, "$.Records.0.s3.object.key"),
    ) {
        return Some((b.clone(), decode_key(k)));
    }
    match (lookup(input, "$.bucket"), lookup(input, "$.key")) {
        (Some(Value::String(b)), Some(Value::String(k))) => Some((b.clone(), k.clone())),
        _ => None,
    }
}

/// Reverses S3's event key encoding: `+` is a space, `%XX` a byte.
fn decode_key(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&key[i + 1..i + 3], 16) {
                Ok(byte) => {
                    out.push(byte);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_decode_as_s3_encodes_them() {
        assert_eq!(
            decode_key("incoming/a+b%2Bc%C3%A9.csv"),
            "incoming/a b+cé.csv"
        );
        assert_eq!(decode_key("100%"), "100%");
    }
}
