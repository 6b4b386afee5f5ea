//! Topics (publish/subscribe notifications) and rules (event routing).

use super::common::Target;
use super::defaults;
use super::secret::SecretString;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A topic: every message published is sent to every subscription.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Topic {
    /// Where published messages go.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<Subscription>,
}

/// One subscription: exactly one of `webhook` or `email`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Subscription {
    /// POST each message as JSON to a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Webhook>,
    /// Send each message by email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
}

/// The kind of a subscription, resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SubscriptionKind<'a> {
    Webhook(&'a Webhook),
    Email(&'a Email),
}

impl Subscription {
    /// The subscription's kind. Always `Some` in a loaded (validated) project.
    pub fn kind(&self) -> Option<SubscriptionKind<'_>> {
        match (&self.webhook, &self.email) {
            (Some(w), None) => Some(SubscriptionKind::Webhook(w)),
            (None, Some(e)) => Some(SubscriptionKind::Email(e)),
            _ => None,
        }
    }
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Webhook {
    /// `http://` or `https://` URL (may embed `${env:NAME}`, e.g. for chat webhooks).
    pub url: SecretString,
    /// Shared secret used to sign each request (HMAC-SHA256); use `${env:NAME}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretString>,
    /// Extra request headers.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, SecretString>,
}

/// An email subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Email {
    /// Recipients.
    pub to: Vec<String>,
    /// Sender address.
    pub from: String,
    /// Subject line (default: the topic name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The SMTP server to send through.
    pub smtp: Smtp,
}

/// An SMTP server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Smtp {
    /// Host name.
    pub host: String,
    /// Port (default 587).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// User name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<SecretString>,
    /// Password; use `${env:NAME}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretString>,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default)]
    pub tls: SmtpTls,
}

impl Smtp {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(defaults::SMTP_PORT)
    }
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Upgrade a plain connection with STARTTLS.
    #[default]
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption.
    None,
}

/// A rule: events matching `pattern` are delivered to every target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Rule {
    /// EventBridge-style pattern, e.g. `{ source: [shop], detail-type: [order] }`.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub pattern: serde_json::Value,
    /// Where matching events go (at least one).
    pub targets: Vec<Target>,
}
