//! Object events on the bus: `Object Created` and `Object Deleted` from
//! source `sluice.objects`, shaped like the events S3 sends to EventBridge,
//! so a rule can route uploads by bucket, key prefix, size or reason with
//! the same patterns as any other event.
//!
//! Producing them costs an outbox row per object change, so they exist only
//! when a rule could match them: at startup every bucket gets one extra
//! notification whose target names nothing, the *bus target*, when some
//! rule admits `source: sluice.objects` (see [`Engine::wants_object_events`]).
//! The relay hands those outbox rows here instead of to a target. Delivery
//! is at-least-once, like the other object notifications: a row is marked
//! delivered only after its event was recorded and routed; the event's id
//! comes from the row, so a row handed over twice is one event.

use crate::engine::Engine;
use crate::EngineError;
use serde_json::{json, Value};
use sluice_objects::ObjectEvent;
use sluice_spec::{Notification, Target};
use sluice_store::NewEvent;

/// The `source` of object events.
pub const OBJECTS_SOURCE: &str = "sluice.objects";

impl Engine {
    /// Whether any rule could match an object event, i.e. whether buckets
    /// should produce them.
    pub fn wants_object_events(&self) -> bool {
        self.plan().routes.admits("source", OBJECTS_SOURCE)
    }

    /// Records and routes the bus event for one outbox row of the bus target.
    pub(crate) async fn publish_object_event(
        &self,
        event: &ObjectEvent,
    ) -> Result<(), EngineError> {
        let (detail_type, detail) = object_event(event);
        let new = NewEvent {
            source: OBJECTS_SOURCE.to_string(),
            detail_type: detail_type.to_string(),
            detail,
        };
        // One event per outbox row, however often the relay hands it over
        // (a crash before the row was marked delivered): its targets are
        // keyed by the event's id, so they start once.
        let id = format!(
            "evt_obj_{}_{}_{:016x}",
            event.bucket, event.id, event.sequencer
        );
        let (seq, routed) = self.store().append_event_once(&id, &new).await?;
        if !routed {
            self.route_recorded_one(seq).await?;
        }
        Ok(())
    }
}

/// The notification that sends a bucket's object events to the bus.
pub fn bus_notification() -> Notification {
    Notification {
        events: vec!["s3:ObjectCreated:*".into(), "s3:ObjectRemoved:*".into()],
        prefix: None,
        suffix: None,
        target: Target::default(),
    }
}

/// Whether an outbox row is for the bus rather than a declared target.
pub(crate) fn is_bus_target(target: &Target) -> bool {
    target.get().is_none()
}

/// The detail-type and detail of the EventBridge-style event for `event`.
fn object_event(event: &ObjectEvent) -> (&'static str, Value) {
    let (kind, how) = event
        .event_name
        .split_once(':')
        .unwrap_or((event.event_name.as_str(), ""));
    let created = kind == "ObjectCreated";
    let reason = match (created, how) {
        (true, "Put") => "PutObject",
        (true, "Copy") => "CopyObject",
        (true, "CompleteMultipartUpload") => "CompleteMultipartUpload",
        (true, "Post") => "PostObject",
        (true, other) => other,
        (false, _) => "DeleteObject",
    };
    let mut object = json!({
        "key": event.key,
        "sequencer": format!("{:016X}", event.sequencer),
    });
    if let Some(size) = event.size {
        object["size"] = json!(size);
    }
    if let Some(etag) = &event.etag {
        object["etag"] = json!(etag);
    }
    if let Some(version_id) = &event.version_id {
        object["version-id"] = json!(version_id);
    }
    let mut detail = json!({
        "version": "0",
        "bucket": { "name": event.bucket },
        "object": object,
        "reason": reason,
        "event-name": format!("s3:{}", event.event_name),
        "depth": 0,
    });
    if !created {
        let deletion = if how == "DeleteMarkerCreated" {
            "Delete Marker Created"
        } else {
            "Permanently Deleted"
        };
        detail["deletion-type"] = json!(deletion);
    }
    let detail_type = if created {
        "Object Created"
    } else {
        "Object Deleted"
    };
    (detail_type, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str) -> ObjectEvent {
        ObjectEvent {
            id: 1,
            bucket: "inbound".into(),
            key: "a b.csv".into(),
            event_name: name.into(),
            size: Some(12),
            etag: Some("abc".into()),
            version_id: Some("v1".into()),
            sequencer: 7,
            event_time_ms: 0,
            configuration_id: "inbound-notification-1".into(),
            target: Target::default(),
            aws_region: "us-east-1".into(),
        }
    }

    #[test]
    fn object_events_take_the_shape_s3_gives_eventbridge() {
        let (kind, detail) = object_event(&event("ObjectCreated:Put"));
        assert_eq!(kind, "Object Created");
        assert_eq!(detail["bucket"]["name"], "inbound");
        assert_eq!(
            detail["object"]["key"], "a b.csv",
            "keys are not URL-encoded on the bus"
        );
        assert_eq!(detail["object"]["size"], 12);
        assert_eq!(detail["object"]["version-id"], "v1");
        assert_eq!(detail["reason"], "PutObject");
        let (kind, detail) = object_event(&event("ObjectRemoved:DeleteMarkerCreated"));
        assert_eq!(kind, "Object Deleted");
        assert_eq!(detail["deletion-type"], "Delete Marker Created");
        assert!(is_bus_target(&bus_notification().target));
    }
}
