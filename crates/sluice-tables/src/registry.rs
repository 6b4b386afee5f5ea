//! The project's tables, each compiled and bound to the database holding it:
//! Sluice's own (embedded) database by default, or a declared connection.

use crate::backend::postgres::PostgresTables;
use crate::backend::sqlite::SqliteTables;
use crate::backend::{Ensured, TableBackend};
use crate::schema::TableSchema;
use crate::TableError;
use sluice_spec::{Connection, DatabaseKind, Project, TlsMode};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where tables without a `connection` live.
#[derive(Debug, Clone)]
pub enum Embedded {
    /// An SQLite file (Sluice's default: `DATA_DIR/tables.db`).
    Sqlite(PathBuf),
    /// A PostgreSQL database and the schema to keep tables in.
    Postgres { url: String, schema: String },
}

/// A table ready to load and query.
#[derive(Clone)]
pub struct BoundTable {
    pub schema: Arc<TableSchema>,
    pub backend: Arc<dyn TableBackend>,
}

/// Every declared table, by name.
#[derive(Clone, Default)]
pub struct Tables {
    tables: BTreeMap<String, BoundTable>,
}

impl Tables {
    pub fn get(&self, name: &str) -> Result<&BoundTable, TableError> {
        self.tables
            .get(name)
            .ok_or_else(|| TableError::NoSuchTable(name.to_string()))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Opens the databases, then creates each table or checks the existing
    /// one against its declaration. `env` resolves `${env:NAME}` in
    /// connection URLs; relative SQLite paths are relative to `project_dir`.
    pub async fn open(
        project: &Project,
        project_dir: &Path,
        embedded: &Embedded,
        env: &(dyn Fn(&str) -> Option<String> + Sync),
    ) -> Result<(Tables, Vec<(String, Ensured)>), TableError> {
        let mut backends: BTreeMap<Option<String>, Arc<dyn TableBackend>> = BTreeMap::new();
        let mut tables = BTreeMap::new();
        let mut ensured = Vec::new();
        for (name, declaration) in &project.tables {
            let schema = Arc::new(TableSchema::compile(name, declaration)?);
            let backend = match backends.get(&declaration.connection) {
                Some(b) => b.clone(),
                None => {
                    let backend = match &declaration.connection {
                        None => open_embedded(embedded).await?,
                        Some(connection) => {
                            let declared =
                                project.connections.get(connection).ok_or_else(|| {
                                    TableError::InvalidSchema {
                                        table: name.clone(),
                                        reason: format!(
                                            "connection `{connection}` is not declared"
                                        ),
                                    }
                                })?;
                            open_connection(connection, declared, project_dir, env).await?
                        }
                    };
                    backends.insert(declaration.connection.clone(), backend.clone());
                    backend
                }
            };
            let outcome = backend.ensure_table(&schema).await?;
            ensured.push((name.clone(), outcome));
            tables.insert(name.clone(), BoundTable { schema, backend });
        }
        Ok((Tables { tables }, ensured))
    }
}

async fn open_embedded(embedded: &Embedded) -> Result<Arc<dyn TableBackend>, TableError> {
    Ok(match embedded {
        Embedded::Sqlite(path) => Arc::new(SqliteTables::open(path)?),
        Embedded::Postgres { url, schema } => {
            Arc::new(PostgresTables::connect(url, Some(schema), 8).await?)
        }
    })
}

async fn open_connection(
    name: &str,
    connection: &Connection,
    project_dir: &Path,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Arc<dyn TableBackend>, TableError> {
    let refuse = |message: String| TableError::Database {
        database: format!("connection `{name}`"),
        message,
    };
    let url = connection.url.resolve(env).map_err(refuse)?;
    let kind = match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("postgres" | "postgresql") => DatabaseKind::Postgres,
        Some("mysql" | "mariadb") => DatabaseKind::MySql,
        Some("sqlite") => DatabaseKind::Sqlite,
        _ => {
            return Err(refuse(
                "the URL's scheme is not postgres, mysql or sqlite".into(),
            ))
        }
    };
    match kind {
        DatabaseKind::Postgres => {
            if matches!(connection.tls_mode(), TlsMode::Require | TlsMode::VerifyFull) {
                return Err(refuse(
                    "tables over a TLS PostgreSQL connection are not supported yet; use `tls: { mode: disable }` on a trusted network".into(),
                ));
            }
            Ok(Arc::new(
                PostgresTables::connect(&url, None, connection.pool_max() as usize).await?,
            ))
        }
        DatabaseKind::Sqlite => {
            let path = url
                .trim_start_matches("sqlite:")
                .trim_start_matches("//");
            let path = project_dir.join(path);
            Ok(Arc::new(SqliteTables::open(&path)?))
        }
        DatabaseKind::MySql => Err(refuse(
            "tables in MySQL/MariaDB are not supported yet: declare the table without `connection` (Sluice's own database) or on a PostgreSQL or SQLite connection".into(),
        )),
    }
}
