//! Delivering notifications (a notification run's one step) and the
//! built-in `notify` step that publishes its input to a topic.
//!
//! Webhooks get a JSON POST signed like this: `X-Sluice-Timestamp: T` and
//! `X-Sluice-Signature: sha256=HEX` where HEX is HMAC-SHA256 over `T.BODY`
//! with the subscription's secret, so a receiver can check both origin and
//! freshness. Any answer but 2xx is a failed attempt, retried by the queue.

use crate::engine::Engine;
use crate::logs::RunLog;
use crate::topics::{EmailPlan, SubscriptionPlan, WebhookPlan};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use sluice_spec::SmtpTls;
use std::sync::OnceLock;
use std::time::Duration;

const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(30);

impl Engine {
    /// Delivers a notification run's message to its subscription.
    pub(crate) async fn deliver(
        &self,
        topic: &str,
        run_id: &str,
        input: &Value,
        log: &RunLog,
    ) -> Result<Value, String> {
        let plan = self
            .inner
            .plan
            .topics
            .get(topic)
            .ok_or_else(|| format!("topic `{topic}` is no longer declared"))?;
        let index = input["subscription"].as_u64().unwrap_or(0) as usize;
        let subscription = plan
            .subscriptions
            .get(index)
            .ok_or_else(|| format!("topic `{topic}` has no subscription {index} any more"))?;
        let subject = input["subject"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("[sluice] {topic}"));
        let message = &input["message"];
        log.note(format!("delivering to {}", subscription.describe()));
        match subscription {
            SubscriptionPlan::Webhook(w) => {
                let body = json!({
                    "topic": topic,
                    "subject": subject,
                    "message": message,
                    "delivery_id": run_id,
                });
                let status = post_webhook(w, topic, run_id, &body).await?;
                log.note(format!("webhook answered {status}"));
                Ok(json!({ "delivered": "webhook", "status": status }))
            }
            SubscriptionPlan::Email(e) => {
                let subject = e.subject.clone().unwrap_or(subject);
                let text = render_text(message, self.run_url(message).as_deref());
                send_email(e, &subject, text).await?;
                log.note(format!(
                    "mail accepted by {}:{} for {}",
                    e.host,
                    e.port,
                    e.to.join(", ")
                ));
                Ok(json!({ "delivered": "email", "to": e.to }))
            }
        }
    }

    /// The built-in `notify` step: publishes its input to the topic.
    pub(crate) async fn notify_step(
        &self,
        params: &sluice_spec::Notify,
        input: &Value,
        run_id: &str,
        step: &str,
        log: &RunLog,
    ) -> Result<Value, String> {
        let subject = match &params.subject {
            Some(template) => render_subject(template, input),
            None => default_subject(input),
        };
        let mut message = input.clone();
        if let (Value::Object(map), Some(url)) = (&mut message, self.run_url_of(run_id)) {
            map.entry("run_url").or_insert(Value::String(url));
        }
        let published = self
            .publish(
                &params.topic,
                Some(subject.clone()),
                message,
                format!("run:{run_id}"),
                Some(format!("notify:{run_id}:{step}")),
            )
            .await
            .map_err(|e| e.to_string())?;
        log.note(format!(
            "published \"{subject}\" to topic `{}`: notification run(s) {}",
            params.topic,
            published.runs.join(", ")
        ));
        Ok(json!({ "topic": params.topic, "subject": subject, "notifications": published.runs }))
    }

    fn run_url(&self, message: &Value) -> Option<String> {
        message["run_url"].as_str().map(str::to_string)
    }

    fn run_url_of(&self, run_id: &str) -> Option<String> {
        self.inner
            .options
            .api_url
            .as_ref()
            .map(|base| format!("{}/v1/runs/{run_id}", base.trim_end_matches('/')))
    }
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("HTTP client")
    })
}

/// The signature header value for `body` sent at `timestamp`.
pub fn webhook_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

async fn post_webhook(
    w: &WebhookPlan,
    topic: &str,
    delivery: &str,
    body: &Value,
) -> Result<u16, String> {
    let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    let timestamp = chrono::Utc::now().timestamp();
    let mut request = client()
        .post(&w.url)
        .header("content-type", "application/json")
        .header("x-sluice-topic", topic)
        .header("x-sluice-delivery", delivery)
        .header("x-sluice-timestamp", timestamp.to_string());
    if let Some(secret) = &w.secret {
        request = request.header(
            "x-sluice-signature",
            webhook_signature(secret, timestamp, &bytes),
        );
    }
    for (name, value) in &w.headers {
        request = request.header(name, value);
    }
    let shown = w.url.split('?').next().unwrap_or_default();
    let response = request
        .body(bytes)
        .send()
        .await
        .map_err(|e| format!("webhook {shown} unreachable: {e}"))?;
    let status = response.status();
    if status.is_success() {
        return Ok(status.as_u16());
    }
    let text = response.text().await.unwrap_or_default();
    let text: String = text.chars().take(200).collect();
    Err(format!("webhook {shown} answered {status}: {text}"))
}

async fn send_email(e: &EmailPlan, subject: &str, text: String) -> Result<(), String> {
    use lettre::message::header::ContentType;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let from = e
        .from
        .parse()
        .map_err(|err| format!("bad sender `{}`: {err}", e.from))?;
    let mut builder = Message::builder().from(from).subject(subject);
    for to in &e.to {
        builder = builder.to(to
            .parse()
            .map_err(|err| format!("bad recipient `{to}`: {err}"))?);
    }
    let message = builder
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|err| format!("cannot build the mail: {err}"))?;
    let transport = match e.tls {
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&e.host),
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&e.host),
        SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            &e.host,
        )),
    }
    .map_err(|err| format!("SMTP {}:{}: {err}", e.host, e.port))?;
    let mut transport = transport
        .port(e.port)
        .timeout(Some(Duration::from_secs(30)));
    if let (Some(user), Some(password)) = (&e.username, &e.password) {
        transport = transport.credentials(Credentials::new(user.clone(), password.clone()));
    }
    transport
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|err| format!("SMTP {}:{} refused the mail: {err}", e.host, e.port))
}

/// `{$.path}` placeholders replaced by values of `input`.
fn render_subject(template: &str, input: &Value) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{$") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let path = &rest[start + 1..start + end];
        match sluice_core::transform::lookup(input, path) {
            Some(Value::String(s)) => out.push_str(s),
            Some(v) => out.push_str(&v.to_string()),
            None => {}
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// A subject that says what happened, for a `csv-load` summary; else generic.
fn default_subject(input: &Value) -> String {
    let file = input["file"]["key"].as_str().unwrap_or("batch");
    let rows = &input["rows"];
    let n = |k: &str| rows[k].as_u64().unwrap_or(0);
    match input["status"].as_str() {
        Some("loaded") => format!("[sluice] {file}: loaded {} rows", n("loaded")),
        Some("partial") => format!(
            "[sluice] {file}: loaded {} of {} rows, {} rejected",
            n("loaded"),
            n("read"),
            n("rejected")
        ),
        Some("rejected") => format!("[sluice] {file}: REJECTED, nothing loaded"),
        Some("already_loaded") => format!("[sluice] {file}: already loaded, nothing changed"),
        Some(other) => format!("[sluice] {file}: {other}"),
        None => "[sluice] notification".into(),
    }
}

/// A plain-text mail body: a readable summary of a `csv-load` output, or the JSON.
fn render_text(message: &Value, run_url: Option<&str>) -> String {
    let mut text = String::new();
    if message.get("rows").is_some() && message.get("file").is_some() {
        let file = &message["file"];
        let rows = &message["rows"];
        text.push_str(&format!(
            "File: s3://{}/{} (version {}, {} bytes)\nStatus: {}\nRows: {} read, {} loaded, {} rejected\nDuration: {} ms\n",
            file["bucket"].as_str().unwrap_or("?"),
            file["key"].as_str().unwrap_or("?"),
            file["version_id"].as_str().unwrap_or("?"),
            file["size"],
            message["status"].as_str().unwrap_or("?"),
            rows["read"], rows["loaded"], rows["rejected"],
            message["duration_ms"],
        ));
        if let Some(e) = message["file_error"].as_object() {
            text.push_str(&format!(
                "File error: line {}: {}\n",
                e["line"],
                e["reason"].as_str().unwrap_or("")
            ));
        }
        if let Some(errors) = message["errors"].as_array().filter(|e| !e.is_empty()) {
            text.push_str(&format!("Errors ({} in all):\n", message["error_count"]));
            for e in errors.iter().take(20) {
                text.push_str(&format!(
                    "  line {}, column {}: {}\n",
                    e["line"],
                    e["column"].as_str().unwrap_or("-"),
                    e["reason"].as_str().unwrap_or("")
                ));
            }
        }
        if let Some(moved) = message["moved_to"].as_object() {
            text.push_str(&format!(
                "Moved to: s3://{}/{}\n",
                moved["bucket"].as_str().unwrap_or("?"),
                moved["key"].as_str().unwrap_or("?")
            ));
        }
    } else {
        text.push_str(&serde_json::to_string_pretty(message).unwrap_or_default());
        text.push('\n');
    }
    if let Some(url) = run_url {
        text.push_str(&format!("Run: {url}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_timestamp_and_body() {
        let a = webhook_signature("s3cret", 1700000000, b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, webhook_signature("s3cret", 1700000001, b"{}"));
        assert_ne!(a, webhook_signature("other", 1700000000, b"{}"));
    }

    #[test]
    fn subjects_render_paths_and_summaries() {
        let input = json!({"status": "partial", "file": {"key": "a.csv"}, "rows": {"read": 10, "loaded": 8, "rejected": 2}});
        assert_eq!(
            render_subject("{$.file.key} is {$.status}", &input),
            "a.csv is partial"
        );
        assert_eq!(
            default_subject(&input),
            "[sluice] a.csv: loaded 8 of 10 rows, 2 rejected"
        );
    }
}
