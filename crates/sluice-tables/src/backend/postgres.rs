//! Tables in PostgreSQL: Sluice's own database when the state store is
//! PostgreSQL (in a schema of their own, so a table named `runs` never meets
//! the store's), or a `postgres:` connection.
//!
//! A load holds one pooled connection and upserts each batch with one
//! statement from a staging table (see `postgres_writer`).

use super::postgres_writer::PostgresWriter;
use super::sql::{
    column_definitions, column_list, conflict_action, ident, key_list, postgres_type, reconcile,
    ExistingColumn, LOADS_TABLE,
};
use super::{Ensured, ItemPage, ItemQuery, PriorLoad, SortCondition, TableBackend, TableWriter};
use crate::schema::TableSchema;
use crate::value::{parse_cell, Cell};
use crate::TableError;
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use sluice_spec::ColumnType;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::NoTls;

/// The temporary table a load stages its batches in.
pub(super) const STAGE: &str = "_sluice_stage";

pub struct PostgresTables {
    pool: Pool,
    /// `postgres://host:port/db` (no password), for messages.
    description: String,
    /// The schema holding the tables (`current_schema()`).
    schema: String,
}

impl PostgresTables {
    /// Connects to `url`; tables live in `schema` (created if missing; ASCII
    /// letters, digits and `_` only). At most `pool_size` connections.
    pub async fn connect(
        url: &str,
        schema: Option<&str>,
        pool_size: usize,
    ) -> Result<PostgresTables, TableError> {
        let mut config =
            tokio_postgres::Config::from_str(url).map_err(|e| TableError::Database {
                database: "PostgreSQL".into(),
                message: format!("not a PostgreSQL connection URL: {e}"),
            })?;
        let host = config
            .get_hosts()
            .first()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(h) => h.clone(),
                tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .unwrap_or_default();
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let mut description = format!(
            "PostgreSQL {host}:{port}/{}",
            config.get_dbname().unwrap_or("")
        );
        if let Some(schema) = schema {
            if schema.is_empty()
                || !schema
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(TableError::Database {
                    database: description,
                    message: format!(
                        "invalid schema name `{schema}`: use ASCII letters, digits and `_`"
                    ),
                });
            }
            description.push_str(&format!(" schema {schema}"));
            let options = match config.get_options() {
                Some(existing) if !existing.is_empty() => {
                    format!("{existing} -c search_path={schema}")
                }
                _ => format!("-c search_path={schema}"),
            };
            config.options(&options);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| TableError::Database {
                database: description.clone(),
                message: format!("cannot build the connection pool: {e}"),
            })?;
        let mut tables = PostgresTables {
            pool,
            description,
            schema: String::new(),
        };
        let client = tables.client().await?;
        if let Some(schema) = schema {
            client
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .await
                .map_err(|e| tables.error(e))?;
        }
        let current: Option<String> = client
            .query_one("SELECT current_schema()::text", &[])
            .await
            .map_err(|e| tables.error(e))?
            .get(0);
        tables.schema = current.unwrap_or_else(|| "public".into());
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {LOADS_TABLE} (
                    table_name TEXT NOT NULL, source TEXT NOT NULL, fingerprint TEXT NOT NULL,
                    run_id TEXT NOT NULL, rows BIGINT NOT NULL, loaded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                    PRIMARY KEY (table_name, source, fingerprint))"
            ))
            .await
            .map_err(|e| tables.error(e))?;
        drop(client);
        Ok(tables)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, TableError> {
        self.pool.get().await.map_err(|e| TableError::Database {
            database: self.description.clone(),
            message: format!("cannot connect: {e}"),
        })
    }

    fn error(&self, e: tokio_postgres::Error) -> TableError {
        pg_error(&self.description, e)
    }
}

pub(super) fn pg_error(database: &str, e: tokio_postgres::Error) -> TableError {
    let message = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    TableError::Database {
        database: database.to_string(),
        message,
    }
}

/// A column read back as text Sluice parses: timestamps in UTC whatever the
/// session's time zone.
fn select_expr(name: &str, kind: ColumnType) -> String {
    match kind {
        ColumnType::Timestamp => format!(
            "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
            ident(name)
        ),
        _ => format!("{}::text", ident(name)),
    }
}

fn text_of(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Null => None,
        other => Some(other.canonical()),
    }
}

#[async_trait]
impl TableBackend for PostgresTables {
    fn describe(&self) -> String {
        self.description.clone()
    }

    async fn ensure_table(&self, schema: &TableSchema) -> Result<Ensured, TableError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT column_name::text, data_type::text, is_nullable::text FROM information_schema.columns
                 WHERE table_schema = $1 AND table_name = $2",
                &[&self.schema, &schema.name],
            )
            .await
            .map_err(|e| self.error(e))?;
        let table = ident(&schema.name);
        if rows.is_empty() {
            client
                .batch_execute(&format!(
                    "CREATE TABLE IF NOT EXISTS {table} ({}, PRIMARY KEY ({}))",
                    column_definitions(schema, postgres_type),
                    key_list(schema)
                ))
                .await
                .map_err(|e| self.error(e))?;
            return Ok(Ensured::Created);
        }
        let mismatch = |reason: String| TableError::Mismatch {
            table: schema.name.clone(),
            database: self.description.clone(),
            reason,
        };
        let existing: Vec<ExistingColumn> = rows
            .iter()
            .map(|r| ExistingColumn {
                name: r.get(0),
                sql_type: r.get(1),
                not_null: r.get::<_, String>(2) == "NO",
            })
            .collect();
        let missing = reconcile(schema, &existing, postgres_type).map_err(mismatch)?;
        let key: Vec<String> = client
            .query(
                "SELECT a.attname::text FROM pg_index i
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                 WHERE i.indrelid = $1::text::regclass AND i.indisprimary
                 ORDER BY array_position(i.indkey, a.attnum)",
                &[&format!("{}.{table}", self.schema)],
            )
            .await
            .map_err(|e| self.error(e))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let want: Vec<String> = schema
            .key_positions()
            .iter()
            .map(|p| schema.columns[*p].name.clone())
            .collect();
        if key != want {
            return Err(mismatch(format!(
                "the primary key is ({}), expected ({})",
                key.join(", "),
                want.join(", ")
            )));
        }
        for (column, sql_type) in &missing {
            client
                .batch_execute(&format!(
                    "ALTER TABLE {table} ADD COLUMN {} {sql_type}",
                    ident(column)
                ))
                .await
                .map_err(|e| self.error(e))?;
        }
        Ok(Ensured::Existing {
            added: missing.into_iter().map(|(name, _)| name).collect(),
        })
    }

    async fn prior_load(
        &self,
        schema: &TableSchema,
        source: &str,
        fingerprint: &str,
    ) -> Result<Option<PriorLoad>, TableError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!(
                    "SELECT run_id, rows, to_char(loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
                     FROM {LOADS_TABLE} WHERE table_name = $1 AND source = $2 AND fingerprint = $3"
                ),
                &[&schema.name, &source, &fingerprint],
            )
            .await
            .map_err(|e| self.error(e))?;
        Ok(row.map(|r| PriorLoad {
            run_id: r.get(0),
            rows: r.get::<_, i64>(1) as u64,
            loaded_at: r.get(2),
        }))
    }

    async fn writer(&self, schema: &TableSchema) -> Result<Box<dyn TableWriter>, TableError> {
        let client = self.client().await?;
        client
            .batch_execute("BEGIN")
            .await
            .map_err(|e| self.error(e))?;
        // Rows are copied (binary COPY, as text) into a temporary table with
        // no index and no WAL, then upserted from it in one statement.
        let names: Vec<String> = schema.columns.iter().map(|c| ident(&c.name)).collect();
        let stage_columns: Vec<String> = names.iter().map(|n| format!("{n} text")).collect();
        client
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS pg_temp.{STAGE}; CREATE TEMP TABLE {STAGE} ({})",
                stage_columns.join(", ")
            ))
            .await
            .map_err(|e| self.error(e))?;
        let casts: Vec<String> = schema
            .columns
            .iter()
            .zip(&names)
            .map(|(c, n)| format!("{n}::{}", postgres_type(c.kind)))
            .collect();
        let upsert = format!(
            "INSERT INTO {} ({}) SELECT {} FROM {STAGE} ON CONFLICT ({}) {}",
            ident(&schema.name),
            column_list(schema),
            casts.join(", "),
            key_list(schema),
            conflict_action(schema)
        );
        let statement = client.prepare(&upsert).await.map_err(|e| self.error(e))?;
        let direct = format!(
            "COPY {} ({}) FROM STDIN",
            ident(&schema.name),
            column_list(schema)
        );
        Ok(Box::new(PostgresWriter::new(
            client,
            direct,
            statement,
            schema.clone(),
            self.description.clone(),
        )))
    }

    async fn query(&self, schema: &TableSchema, query: &ItemQuery) -> Result<ItemPage, TableError> {
        let column = |p: usize| &schema.columns[p];
        let pk = column(schema.partition);
        let mut args: Vec<Option<String>> = vec![text_of(&query.partition)];
        let mut sql = format!(
            "SELECT {} FROM {} WHERE {} = $1::text::{}",
            schema
                .columns
                .iter()
                .map(|c| select_expr(&c.name, c.kind))
                .collect::<Vec<_>>()
                .join(", "),
            ident(&schema.name),
            ident(&pk.name),
            postgres_type(pk.kind)
        );
        if let Some(sort) = schema.sort {
            let sk = ident(&column(sort).name);
            let ty = postgres_type(column(sort).kind);
            let condition = |op: &str,
                             value: Option<String>,
                             sql: &mut String,
                             args: &mut Vec<Option<String>>| {
                args.push(value);
                sql.push_str(&format!(" AND {sk} {op} ${}::text::{ty}", args.len()));
            };
            match &query.sort {
                SortCondition::Any => {}
                SortCondition::Equals(v) => condition("=", text_of(v), &mut sql, &mut args),
                SortCondition::Between(from, to) => {
                    if let Some(from) = from {
                        condition(">=", text_of(from), &mut sql, &mut args);
                    }
                    if let Some(to) = to {
                        condition("<=", text_of(to), &mut sql, &mut args);
                    }
                }
                SortCondition::BeginsWith(prefix) => {
                    args.push(Some(prefix.clone()));
                    sql.push_str(&format!(" AND starts_with({sk}::text, ${})", args.len()));
                }
            }
            if let Some(after) = &query.after {
                condition(">", text_of(after), &mut sql, &mut args);
            }
            sql.push_str(&format!(" ORDER BY {sk}"));
        } else if query.sort != SortCondition::Any {
            return Err(TableError::BadQuery(format!(
                "table `{}` has no sort key",
                schema.name
            )));
        }
        sql.push_str(&format!(" LIMIT {}", query.limit + 1));
        let client = self.client().await?;
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = args
            .iter()
            .map(|a| a as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        let rows = client
            .query(&sql, &params)
            .await
            .map_err(|e| self.error(e))?;
        let mut items = Vec::new();
        let mut next = None;
        for (n, row) in rows.iter().enumerate() {
            if n == query.limit {
                return Ok(ItemPage { items, next });
            }
            let mut item = serde_json::Map::new();
            for (i, c) in schema.columns.iter().enumerate() {
                let text: Option<String> = row.get(i);
                let cell = match text {
                    None => Cell::Null,
                    Some(t) => parse_cell(c.kind, &t).unwrap_or(Cell::Text(t)),
                };
                if Some(i) == schema.sort {
                    next = Some(cell.clone());
                }
                item.insert(c.name.clone(), cell.to_json());
            }
            items.push(item);
        }
        Ok(ItemPage { items, next: None })
    }
}
