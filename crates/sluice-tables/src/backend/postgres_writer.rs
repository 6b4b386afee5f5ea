//! A load into PostgreSQL: one pooled connection, one transaction per
//! checkpoint; each batch is copied into a temporary table (binary COPY)
//! and upserted from there with one `INSERT … SELECT … ON CONFLICT`.

use super::postgres::{pg_error, STAGE};
use super::sql::LOADS_TABLE;
use super::{LoadMarker, TableWriter};
use crate::csv::Row;
use crate::schema::TableSchema;
use crate::value::Cell;
use crate::TableError;
use async_trait::async_trait;
use std::borrow::Cow;
use tokio_postgres::binary_copy::BinaryCopyInWriter;

pub(super) struct PostgresWriter {
    /// Taken when the load ends; a writer dropped before that closes its
    /// connection instead of returning it to the pool mid-transaction.
    client: Option<deadpool_postgres::Object>,
    statement: tokio_postgres::Statement,
    schema: TableSchema,
    database: String,
}

impl PostgresWriter {
    pub(super) fn new(
        client: deadpool_postgres::Object,
        statement: tokio_postgres::Statement,
        schema: TableSchema,
        database: String,
    ) -> Self {
        PostgresWriter {
            client: Some(client),
            statement,
            schema,
            database,
        }
    }

    fn client(&self) -> &deadpool_postgres::Object {
        self.client.as_ref().expect("writer used after it finished")
    }
}

impl Drop for PostgresWriter {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

#[async_trait]
impl TableWriter for PostgresWriter {
    async fn write(&mut self, rows: Vec<Row>) -> Result<(), TableError> {
        use tokio_postgres::types::{ToSql, Type};
        let rows = super::last_per_key(&self.schema, rows);
        let error = |e| pg_error(&self.database, e);
        let sink = self
            .client()
            .copy_in(&format!("COPY {STAGE} FROM STDIN (FORMAT binary)"))
            .await
            .map_err(error)?;
        let types = vec![Type::TEXT; self.schema.columns.len()];
        let writer = BinaryCopyInWriter::new(sink, &types);
        futures::pin_mut!(writer);
        for row in &rows {
            let texts: Vec<Option<Cow<'_, str>>> = row
                .iter()
                .map(|cell| match cell {
                    Cell::Null => None,
                    cell => Some(cell.key_text()),
                })
                .collect();
            let values: Vec<Option<&str>> = texts.iter().map(|t| t.as_deref()).collect();
            let params: Vec<&(dyn ToSql + Sync)> =
                values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
            writer.as_mut().write(&params).await.map_err(error)?;
        }
        writer.finish().await.map_err(error)?;
        self.client()
            .execute(&self.statement, &[])
            .await
            .map_err(error)?;
        self.client()
            .batch_execute(&format!("TRUNCATE {STAGE}"))
            .await
            .map_err(error)?;
        Ok(())
    }

    async fn checkpoint(&mut self) -> Result<(), TableError> {
        self.client()
            .batch_execute("COMMIT; BEGIN")
            .await
            .map_err(|e| pg_error(&self.database, e))
    }

    async fn commit(mut self: Box<Self>, marker: &LoadMarker) -> Result<(), TableError> {
        let rows = marker.rows as i64;
        self.client()
            .execute(
                &format!(
                    "INSERT INTO {LOADS_TABLE} (table_name, source, fingerprint, run_id, rows) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (table_name, source, fingerprint) DO UPDATE SET run_id = excluded.run_id, rows = excluded.rows, loaded_at = now()"
                ),
                &[&self.schema.name, &marker.source, &marker.fingerprint, &marker.run_id, &rows],
            )
            .await
            .map_err(|e| pg_error(&self.database, e))?;
        self.client()
            .batch_execute("COMMIT")
            .await
            .map_err(|e| pg_error(&self.database, e))?;
        // Finished cleanly: the connection may go back to the pool.
        self.client.take();
        Ok(())
    }

    async fn rollback(mut self: Box<Self>) -> Result<(), TableError> {
        self.client()
            .batch_execute("ROLLBACK")
            .await
            .map_err(|e| pg_error(&self.database, e))?;
        self.client.take();
        Ok(())
    }
}
