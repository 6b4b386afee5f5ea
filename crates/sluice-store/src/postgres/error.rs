//! Internal error type of the PostgreSQL backend and its translation to
//! [`StoreError`], plus the password-free renderings of the connection URL.
//!
//! Inside the backend every function returns [`DbResult`], so `?` works on
//! driver, pool and JSON errors alike. Only at the boundary of a
//! [`crate::Store`] call is the error translated, once, with the server's
//! location and the operation attached. A password never appears in any
//! message: the location is rebuilt from the parsed configuration.

use crate::StoreError;
use deadpool_postgres::PoolError;
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;

/// Result of the backend's internal functions.
pub(crate) type DbResult<T> = Result<T, DbError>;

/// Everything that can go wrong inside the PostgreSQL backend.
#[derive(Debug)]
pub(crate) enum DbError {
    /// A domain error decided by the backend (not found, lease lost, conflict).
    Store(StoreError),
    /// The server or the driver failed.
    Pg(tokio_postgres::Error),
    /// No connection could be had from the pool.
    Pool(PoolError),
    /// A JSON column could not be encoded or decoded.
    Json(serde_json::Error),
    /// A stored value this build cannot interpret (e.g. an unknown status name).
    BadValue(String),
}

impl From<StoreError> for DbError {
    fn from(e: StoreError) -> Self {
        DbError::Store(e)
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        DbError::Pg(e)
    }
}

impl From<serde_json::Error> for DbError {
    fn from(e: serde_json::Error) -> Self {
        DbError::Json(e)
    }
}

impl DbError {
    /// A failure that re-running the whole transaction may cure: a
    /// serialization failure or a deadlock another transaction won.
    pub(crate) fn is_transient(&self) -> bool {
        matches!(self, DbError::Pg(e) if matches!(
            e.code(),
            Some(code) if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
        ))
    }

    /// Translates to the public error, naming the server and the operation.
    pub(crate) fn into_store(self, location: &str, operation: &str) -> StoreError {
        match self {
            DbError::Store(e) => e,
            DbError::Pg(e) => pg_to_store(&e, location, operation),
            DbError::Pool(PoolError::Backend(e)) => pg_to_store(&e, location, operation),
            DbError::Pool(e) => StoreError::Unusable {
                location: location.to_string(),
                reason: format!("no database connection for {operation}: {e}"),
            },
            DbError::Json(e) => StoreError::Backend(format!(
                "{operation}: invalid JSON in the database or request: {e}"
            )),
            DbError::BadValue(what) => StoreError::Backend(format!(
                "{operation}: unexpected value in the database: {what}"
            )),
        }
    }
}

/// The error and its causes on one line (the driver keeps the OS error, e.g.
/// "Connection refused", in the source chain).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Maps a driver failure to the error kind the caller can act on.
///
/// Problems a human must fix (the server is unreachable, the login or the
/// database is wrong, the disk is full, the server is read-only, privileges
/// are missing) become [`StoreError::Unusable`]; everything else, including
/// serialization failures that outlasted the retries, is a
/// [`StoreError::Backend`] saying which operation failed.
pub(crate) fn pg_to_store(
    e: &tokio_postgres::Error,
    location: &str,
    operation: &str,
) -> StoreError {
    let unusable = |reason: String| StoreError::Unusable {
        location: location.to_string(),
        reason,
    };
    let Some(db) = e.as_db_error() else {
        if e.is_closed() {
            return StoreError::Backend(format!(
                "{operation}: the connection to {location} was closed ({})",
                chain(e)
            ));
        }
        // No server answer at all: the connection itself failed.
        return unusable(format!(
            "cannot connect to PostgreSQL ({}); check that the server is running and \
             reachable and that the URL is right",
            chain(e)
        ));
    };
    let detail = db.message();
    let code = db.code();
    if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED {
        return StoreError::Backend(format!(
            "{operation}: the transaction kept conflicting with concurrent ones and was \
             given up ({} {detail}); retry the call",
            code.code()
        ));
    }
    match code.code() {
        // Class 28: invalid authorization; 3D000: no such database.
        c if c.starts_with("28") => unusable(format!(
            "the server refused the login ({detail}); check the user and password in the URL"
        )),
        "3D000" => unusable(format!(
            "the database does not exist ({detail}); create it or fix the URL"
        )),
        "53100" => unusable(format!(
            "the server's disk is full ({operation} could not be written: {detail}); free some space"
        )),
        "25006" => unusable(format!(
            "the server is read-only ({detail}); point Sluice at the primary"
        )),
        "42501" => unusable(format!(
            "permission denied ({detail}); grant the user rights on the database and schema"
        )),
        // Class 57P: the server is shutting down or restarting; 53300: too many connections.
        c if c.starts_with("57P") || c == "53300" => unusable(format!(
            "the server is not accepting work ({detail}); check it and retry"
        )),
        c => StoreError::Backend(format!("{operation}: {detail} (SQLSTATE {c})")),
    }
}

/// The URL without its password: `postgres://user@host:port/db`.
pub(crate) fn location_of(config: &tokio_postgres::Config) -> String {
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    format!(
        "postgres://{user}{}/{}",
        hosts(config, true),
        dbname(config)
    )
}

/// `postgres://host/db`, for `describe` and banners: no credentials at all.
pub(crate) fn description_of(config: &tokio_postgres::Config) -> String {
    format!("postgres://{}/{}", hosts(config, false), dbname(config))
}

fn dbname(config: &tokio_postgres::Config) -> String {
    config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres")
        .to_string()
}

fn hosts(config: &tokio_postgres::Config, with_port: bool) -> String {
    let ports = config.get_ports();
    let names: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let name = match host {
                Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                Host::Unix(path) => path.display().to_string(),
            };
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            if with_port {
                format!("{name}:{port}")
            } else {
                name
            }
        })
        .collect();
    if names.is_empty() {
        "localhost".to_string()
    } else {
        names.join(",")
    }
}

/// Best-effort removal of the password from a URL that could not be parsed,
/// so even the "malformed URL" error does not print it.
pub(crate) fn strip_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // The key=value form: drop any password=... pair.
        return url
            .split_whitespace()
            .filter(|pair| !pair.starts_with("password="))
            .collect::<Vec<_>>()
            .join(" ");
    };
    match rest.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_string(),
    }
}

/// Shorthand for "the store decided this is not found".
pub(crate) fn not_found(kind: &'static str, id: &str) -> DbError {
    DbError::Store(StoreError::not_found(kind, id))
}

/// Shorthand for "the receipt is stale".
pub(crate) fn lease_lost(message_id: &str) -> DbError {
    DbError::Store(StoreError::LeaseLost {
        message_id: message_id.to_string(),
    })
}

/// Shorthand for "the request conflicts with the current state".
pub(crate) fn conflict(message: impl Into<String>) -> DbError {
    DbError::Store(StoreError::Conflict(message.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn locations_never_show_the_password() {
        let config =
            tokio_postgres::Config::from_str("postgres://sluice:s3cret@db.internal:6432/jobs")
                .unwrap();
        assert_eq!(
            location_of(&config),
            "postgres://sluice@db.internal:6432/jobs"
        );
        assert_eq!(description_of(&config), "postgres://db.internal/jobs");
        assert_eq!(
            strip_password("postgres://sluice:s3cret@db:5432/x?bad=%"),
            "postgres://sluice@db:5432/x?bad=%"
        );
        assert_eq!(
            strip_password("host=db password=s3cret user=u"),
            "host=db user=u"
        );
    }
}
