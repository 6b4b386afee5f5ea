//! From a connection's declaration to a [`Warehouse`]: secrets resolved,
//! defaults applied, the backend chosen by the URL's scheme. No connection
//! is opened here; pools connect on first use.

use crate::mysql::MySqlWarehouse;
use crate::postgres::PostgresWarehouse;
use crate::sqlite::SqliteWarehouse;
use crate::warehouse::{Settings, Warehouse};
use crate::SqlError;
use sluice_spec::Connection;
use std::path::Path;
use std::sync::Arc;

/// The settings of connection `name`: `env` resolves `${env:NAME}`
/// references; relative paths (`tls.ca_file`, SQLite files) are relative to `root`.
pub fn settings(
    name: &str,
    connection: &Connection,
    root: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Settings, SqlError> {
    let url = connection
        .url
        .resolve(env)
        .map_err(|reason| SqlError::Config {
            connection: name.to_string(),
            reason: format!("url: {reason}"),
        })?;
    Ok(Settings {
        name: name.to_string(),
        shown: crate::url::redact(&url),
        url,
        pool_max: connection.pool_max().max(1),
        pool_min: connection.pool_min(),
        connect_timeout: connection.connect_timeout(),
        query_timeout: connection.query_timeout(),
        tls: connection.tls_mode(),
        ca_file: connection
            .tls
            .as_ref()
            .and_then(|t| t.ca_file.as_ref())
            .map(|f| root.join(f)),
        root: root.to_path_buf(),
    })
}

/// A warehouse for `settings`, chosen by the URL's scheme.
pub fn open(settings: Settings) -> Result<Arc<dyn Warehouse>, SqlError> {
    let scheme = settings.url.split(':').next().unwrap_or_default();
    Ok(match scheme {
        "postgres" | "postgresql" => Arc::new(PostgresWarehouse::new(settings)?),
        "mysql" | "mariadb" => Arc::new(MySqlWarehouse::new(settings)?),
        "sqlite" => Arc::new(SqliteWarehouse::new(settings)?),
        other => {
            return Err(SqlError::Config {
                connection: settings.name,
                reason: format!(
                    "unknown database URL scheme `{other}`: use postgres://, mysql://, mariadb:// or sqlite:"
                ),
            })
        }
    })
}
