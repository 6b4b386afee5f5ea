//! A load into PostgreSQL: one pooled connection, one transaction per
//! checkpoint. A batch is copied straight into the table (COPY, the fastest
//! way in); if it meets an existing key, that copy is rolled back to a
//! savepoint and the batch is copied into a temporary table and upserted
//! from there (`INSERT … SELECT … ON CONFLICT DO UPDATE`).

use super::postgres::{pg_error, STAGE};
use super::sql::LOADS_TABLE;
use super::{LoadMarker, TableWriter};
use crate::csv::Row;
use crate::schema::TableSchema;
use crate::value::Cell;
use crate::TableError;
use async_trait::async_trait;
use bytes::Bytes;
use futures::SinkExt;
use tokio_postgres::error::SqlState;

pub(super) struct PostgresWriter {
    /// Taken when the load ends; a writer dropped before that closes its
    /// connection instead of returning it to the pool mid-transaction.
    client: Option<deadpool_postgres::Object>,
    /// `COPY table FROM STDIN`: a batch of new keys goes straight in.
    direct: String,
    /// Upserts the staging table into the table, for a batch that met a key.
    upsert: tokio_postgres::Statement,
    schema: TableSchema,
    database: String,
}

impl PostgresWriter {
    pub(super) fn new(
        client: deadpool_postgres::Object,
        direct: String,
        upsert: tokio_postgres::Statement,
        schema: TableSchema,
        database: String,
    ) -> Self {
        PostgresWriter {
            client: Some(client),
            direct,
            upsert,
            schema,
            database,
        }
    }

    fn client(&self) -> &deadpool_postgres::Object {
        self.client.as_ref().expect("writer used after it finished")
    }
}

/// Streams `text` (COPY's text format) through `sql`.
async fn copy_in(
    client: &deadpool_postgres::Object,
    sql: &str,
    text: Bytes,
) -> Result<(), tokio_postgres::Error> {
    let sink = client.copy_in(sql).await?;
    futures::pin_mut!(sink);
    sink.send(text).await?;
    sink.finish().await.map(|_| ())
}

/// Rows in COPY's text format: tab-separated, `\N` for null, with
/// backslash, tab and line breaks escaped.
fn copy_text(rows: &[Row]) -> Bytes {
    let mut out = Vec::with_capacity(rows.len() * 64);
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            if *cell == Cell::Null {
                out.extend_from_slice(b"\\N");
                continue;
            }
            for byte in cell.key_text().bytes() {
                match byte {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    other => out.push(other),
                }
            }
        }
        out.push(b'\n');
    }
    Bytes::from(out)
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
        let text = copy_text(&rows);
        let error = |e| pg_error(&self.database, e);
        let client = self.client();
        client
            .batch_execute("SAVEPOINT batch")
            .await
            .map_err(error)?;
        match copy_in(client, &self.direct, text.clone()).await {
            Ok(()) => {}
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                client
                    .batch_execute("ROLLBACK TO SAVEPOINT batch")
                    .await
                    .map_err(error)?;
                copy_in(client, &format!("COPY {STAGE} FROM STDIN"), text)
                    .await
                    .map_err(error)?;
                client.execute(&self.upsert, &[]).await.map_err(error)?;
                client
                    .batch_execute(&format!("TRUNCATE {STAGE}"))
                    .await
                    .map_err(error)?;
            }
            Err(e) => return Err(error(e)),
        }
        client
            .batch_execute("RELEASE SAVEPOINT batch")
            .await
            .map_err(error)
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
