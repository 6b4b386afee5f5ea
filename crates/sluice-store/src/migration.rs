//! The shape of a schema migration, shared by every backend; each backend
//! keeps its own list, in its own SQL dialect, with the same version numbers.

/// One schema step: applying it to a database at `version - 1` yields `version`.
pub(crate) struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

/// The schema version a list of migrations brings a database to.
pub(crate) fn latest_version(migrations: &[Migration]) -> i64 {
    migrations.last().map_or(0, |m| m.version)
}
