//! A load into PostgreSQL: one pooled connection, one transaction per
//! checkpoint, one `INSERT … SELECT FROM UNNEST(…) ON CONFLICT` per batch.

use super::postgres::{pg_error, text_of};
use super::sql::LOADS_TABLE;
use super::{LoadMarker, TableWriter};
use crate::csv::Row;
use crate::schema::TableSchema;
use crate::TableError;
use async_trait::async_trait;

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
        let rows = super::last_per_key(&self.schema, rows);
        let mut columns: Vec<Vec<Option<String>>> =
            vec![Vec::with_capacity(rows.len()); self.schema.columns.len()];
        for row in &rows {
            for (column, cell) in columns.iter_mut().zip(row) {
                column.push(text_of(cell));
            }
        }
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = columns
            .iter()
            .map(|c| c as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        self.client()
            .execute(&self.statement, &params)
            .await
            .map_err(|e| pg_error(&self.database, e))?;
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
