//! Object events as they leave the outbox, and their AWS S3 notification JSON.
//!
//! The JSON is the exact shape AWS S3 sends to Lambda / SQS / SNS (event
//! version 2.1), so handlers written for S3 events work unchanged:
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>.

use serde_json::{json, Value};
use sluice_spec::Target;

/// `Records[].eventVersion` of the events Sluice produces.
pub const S3_EVENT_VERSION: &str = "2.1";
/// The region events and the endpoint report.
pub const DEFAULT_REGION: &str = "us-east-1";

/// One outbox row: an object event routed to one notification target.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectEvent {
    /// Outbox id, for [`crate::Catalog::mark_delivered`].
    pub id: i64,
    pub bucket: String,
    pub key: String,
    /// Without the `s3:` prefix, e.g. `ObjectCreated:Put`.
    pub event_name: String,
    /// Present for created events.
    pub size: Option<u64>,
    pub etag: Option<String>,
    /// Present when the bucket is (or was) versioned.
    pub version_id: Option<String>,
    /// Orders events of one key: a later change has a greater sequencer.
    pub sequencer: i64,
    pub event_time_ms: i64,
    /// Names the matching rule: `BUCKET-notification-N` (N counts from 1).
    pub configuration_id: String,
    /// Where the matching rule sends the event.
    pub target: Target,
    pub aws_region: String,
}

impl ObjectEvent {
    /// The AWS S3 event notification for this event (one record).
    pub fn to_s3_event_json(&self) -> Value {
        let mut object = json!({
            "key": encode_key(&self.key),
            "sequencer": format!("{:016X}", self.sequencer),
        });
        if let Some(size) = self.size {
            object["size"] = json!(size);
        }
        if let Some(etag) = &self.etag {
            object["eTag"] = json!(etag);
        }
        if let Some(version_id) = &self.version_id {
            object["versionId"] = json!(version_id);
        }
        let event_time = chrono::DateTime::from_timestamp_millis(self.event_time_ms)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        json!({
            "Records": [{
                "eventVersion": S3_EVENT_VERSION,
                "eventSource": "aws:s3",
                "awsRegion": self.aws_region,
                "eventTime": event_time,
                "eventName": self.event_name,
                "userIdentity": { "principalId": "sluice" },
                "requestParameters": { "sourceIPAddress": "127.0.0.1" },
                "responseElements": {
                    "x-amz-request-id": format!("{:016X}", self.id),
                    "x-amz-id-2": format!("sluice/{}", self.id),
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": self.configuration_id,
                    "bucket": {
                        "name": self.bucket,
                        "ownerIdentity": { "principalId": "sluice" },
                        "arn": format!("arn:aws:s3:::{}", self.bucket),
                    },
                    "object": object,
                },
            }]
        })
    }
}

/// Encodes a key as S3 does in events: form encoding (`+` for a space,
/// `%XX` for other reserved bytes of the UTF-8), keeping `/` readable.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_form_encoded() {
        assert_eq!(encode_key("red flower.jpg"), "red+flower.jpg");
        assert_eq!(encode_key("a+b/c (1).csv"), "a%2Bb/c+%281%29.csv");
        assert_eq!(encode_key("ü"), "%C3%BC");
    }

    #[test]
    fn aws_shape() {
        let event = ObjectEvent {
            id: 7,
            bucket: "inbound".into(),
            key: "in box/a.csv".into(),
            event_name: "ObjectCreated:Put".into(),
            size: Some(3),
            etag: Some("900150983cd24fb0d6963f7d28e17f72".into()),
            version_id: None,
            sequencer: 10,
            event_time_ms: 0,
            configuration_id: "inbound-notification-1".into(),
            target: serde_json::from_value(json!({"function": "f"})).unwrap(),
            aws_region: DEFAULT_REGION.into(),
        };
        let json = event.to_s3_event_json();
        let record = &json["Records"][0];
        assert_eq!(record["eventVersion"], "2.1");
        assert_eq!(record["eventSource"], "aws:s3");
        assert_eq!(record["eventTime"], "1970-01-01T00:00:00.000Z");
        assert_eq!(record["s3"]["bucket"]["arn"], "arn:aws:s3:::inbound");
        assert_eq!(record["s3"]["object"]["key"], "in+box/a.csv");
        assert_eq!(record["s3"]["object"]["size"], 3);
        assert_eq!(record["s3"]["object"]["sequencer"], "000000000000000A");
        assert!(record["s3"]["object"].get("versionId").is_none());
    }
}
