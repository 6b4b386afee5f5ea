//! Topics: publish once, deliver to every subscription, never drop silently.
//!
//! Publishing starts one *notification run* per subscription on the topic's
//! implicit queue (`topic.NAME`), with an idempotency key so a retried
//! publish sends nothing twice. Each run is a normal run: its delivery is
//! attempted, logged, retried with backoff and finally dead-lettered, so a
//! failed notification is as visible and redrivable as any failed work.

use crate::engine::{Engine, SubmitRequest};
use crate::plan_build::PlanError;
use crate::EngineError;
use serde_json::{json, Value};
use sluice_core::RunKind;
use sluice_spec::{SmtpTls, SubscriptionKind, Topic};

/// A topic ready to deliver.
#[derive(Debug, Clone)]
pub struct TopicPlan {
    pub name: String,
    pub subscriptions: Vec<SubscriptionPlan>,
}

/// One subscription with its secrets resolved.
#[derive(Debug, Clone)]
pub enum SubscriptionPlan {
    Webhook(WebhookPlan),
    Email(EmailPlan),
}

#[derive(Debug, Clone)]
pub struct WebhookPlan {
    pub url: String,
    /// Signs each body with HMAC-SHA256 (see `crate::notify`).
    pub secret: Option<String>,
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct EmailPlan {
    pub to: Vec<String>,
    pub from: String,
    pub subject: Option<String>,
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: SmtpTls,
}

impl SubscriptionPlan {
    /// Names the subscription in logs without secrets: `webhook https://host/…`.
    pub fn describe(&self) -> String {
        match self {
            SubscriptionPlan::Webhook(w) => {
                let shown = w.url.split('?').next().unwrap_or_default();
                format!("webhook {shown}")
            }
            SubscriptionPlan::Email(e) => {
                format!("email to {} via {}:{}", e.to.join(", "), e.host, e.port)
            }
        }
    }
}

/// Resolves a declared topic's secrets.
pub(crate) fn topic_plan(
    name: &str,
    topic: &Topic,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<TopicPlan, PlanError> {
    let owner = format!("topic `{name}`");
    let secret = |key: String, s: &sluice_spec::SecretString| {
        s.resolve(env).map_err(|reason| PlanError::Secret {
            owner: owner.clone(),
            key,
            reason,
        })
    };
    let mut subscriptions = Vec::new();
    for (i, subscription) in topic.subscriptions.iter().enumerate() {
        let at = |key: &str| format!("subscriptions[{i}].{key}");
        subscriptions.push(match subscription.kind() {
            Some(SubscriptionKind::Webhook(w)) => SubscriptionPlan::Webhook(WebhookPlan {
                url: secret(at("webhook.url"), &w.url)?,
                secret: w
                    .secret
                    .as_ref()
                    .map(|s| secret(at("webhook.secret"), s))
                    .transpose()?,
                headers: w
                    .headers
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), secret(at(&format!("webhook.headers.{k}")), v)?)))
                    .collect::<Result<_, PlanError>>()?,
            }),
            Some(SubscriptionKind::Email(e)) => SubscriptionPlan::Email(EmailPlan {
                to: e.to.clone(),
                from: e.from.clone(),
                subject: e.subject.clone(),
                host: e.smtp.host.clone(),
                port: e.smtp.port(),
                username: e
                    .smtp
                    .username
                    .as_ref()
                    .map(|s| secret(at("email.smtp.username"), s))
                    .transpose()?,
                password: e
                    .smtp
                    .password
                    .as_ref()
                    .map(|s| secret(at("email.smtp.password"), s))
                    .transpose()?,
                tls: e.smtp.tls,
            }),
            None => continue,
        });
    }
    Ok(TopicPlan {
        name: name.to_string(),
        subscriptions,
    })
}

/// What publishing did: one notification run per subscription.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Published {
    pub topic: String,
    pub runs: Vec<String>,
    /// True when every run already existed (a repeated publish).
    pub duplicate: bool,
}

impl Engine {
    /// Publishes `message` to every subscription of `topic`. With a key,
    /// publishing again with the same key starts nothing new.
    pub async fn publish(
        &self,
        topic: &str,
        subject: Option<String>,
        message: Value,
        trigger: String,
        idempotency_key: Option<String>,
    ) -> Result<Published, EngineError> {
        let plan =
            self.inner.plan.topics.get(topic).ok_or_else(|| {
                EngineError::unknown("topic", topic, self.inner.plan.topics.keys())
            })?;
        let mut runs = Vec::new();
        let mut duplicate = true;
        for (index, subscription) in plan.subscriptions.iter().enumerate() {
            let request = SubmitRequest {
                kind: RunKind::Notification,
                target: topic.to_string(),
                input: json!({
                    "subscription": index,
                    "to": subscription.describe(),
                    "subject": subject,
                    "message": message,
                }),
                trigger: trigger.clone(),
                idempotency_key: idempotency_key.as_ref().map(|k| format!("{k}:{index}")),
            };
            let submitted = self.submit(request).await?;
            duplicate &= submitted.duplicate;
            runs.push(submitted.run_id);
        }
        Ok(Published {
            topic: topic.to_string(),
            runs,
            duplicate: duplicate && !plan.subscriptions.is_empty(),
        })
    }
}
