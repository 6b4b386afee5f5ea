//! Connections to external SQL databases.

use super::defaults;
use super::secret::SecretString;
use super::units::HumanDuration;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// URL schemes a connection may use.
pub const DATABASE_SCHEMES: &[&str] = &["postgres", "postgresql", "mysql", "mariadb", "sqlite"];

/// A database connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Connection {
    /// Connection URL (`postgres://`, `mysql://`, `mariadb://`, `sqlite:`);
    /// keep passwords in `${env:NAME}`.
    pub url: SecretString,
    /// Connection pool size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<Pool>,
    /// How long to wait for a connection (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<HumanDuration>,
    /// Upper bound for one query (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_timeout: Option<HumanDuration>,
    /// TLS settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
}

/// The kind of database behind a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatabaseKind {
    Postgres,
    MySql,
    Sqlite,
}

impl Connection {
    /// The database kind, when the URL's scheme is written literally
    /// (`None` when it comes from a `${env:...}` reference).
    pub fn kind(&self) -> Option<DatabaseKind> {
        let prefix = self.url.literal_prefix();
        let (scheme, _) = prefix.split_once(':')?;
        match scheme {
            "postgres" | "postgresql" => Some(DatabaseKind::Postgres),
            "mysql" | "mariadb" => Some(DatabaseKind::MySql),
            "sqlite" => Some(DatabaseKind::Sqlite),
            _ => None,
        }
    }

    pub fn pool_max(&self) -> u32 {
        self.pool
            .as_ref()
            .and_then(|p| p.max)
            .unwrap_or(defaults::POOL_MAX)
    }

    pub fn pool_min(&self) -> u32 {
        self.pool
            .as_ref()
            .and_then(|p| p.min)
            .unwrap_or(defaults::POOL_MIN)
    }

    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
            .map_or(defaults::CONNECT_TIMEOUT, HumanDuration::get)
    }

    pub fn query_timeout(&self) -> Option<Duration> {
        self.query_timeout.map(HumanDuration::get)
    }

    pub fn tls_mode(&self) -> TlsMode {
        self.tls.as_ref().map_or(TlsMode::default(), |t| t.mode)
    }
}

/// Connection pool bounds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Pool {
    /// Most connections open at once (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    /// Connections kept open when idle (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
}

/// TLS settings of a connection.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub struct Tls {
    /// `disable`, `prefer` (default), `require` or `verify-full`.
    #[serde(default)]
    pub mode: TlsMode,
    /// CA certificate file (PEM) for `verify-full`, relative to the project root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

/// Whether and how strictly to use TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Never use TLS.
    Disable,
    /// Use TLS when the server offers it.
    #[default]
    Prefer,
    /// Always use TLS, without verifying the certificate.
    Require,
    /// Always use TLS and verify the certificate and host name.
    VerifyFull,
}
