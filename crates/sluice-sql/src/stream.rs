//! Running a query as a task that produces batches into a small bounded
//! channel: the reader pulls, the producer waits when it is ahead, and
//! memory stays bounded whatever the result's size. The same machinery
//! applies the query timeout and turns a vanished reader into a cancelled
//! query for every backend.

use crate::warehouse::{BatchStream, Rows};
use crate::SqlError;
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use std::future::Future;
use std::time::Duration;
use tokio::sync::mpsc;

/// Batches produced ahead of the reader.
const AHEAD: usize = 2;

enum Message {
    Schema(SchemaRef),
    Batch(RecordBatch),
    Error(SqlError),
}

/// The reader has gone: stop producing and cancel the query.
#[derive(Debug)]
pub(crate) struct Gone;

/// The sending half a backend produces into.
pub(crate) struct Producer {
    tx: mpsc::Sender<Message>,
}

impl Producer {
    /// Announces the columns; must come before any batch.
    pub async fn schema(&self, schema: SchemaRef) -> Result<(), Gone> {
        self.tx
            .send(Message::Schema(schema))
            .await
            .map_err(|_| Gone)
    }

    pub async fn batch(&self, batch: RecordBatch) -> Result<(), Gone> {
        self.tx.send(Message::Batch(batch)).await.map_err(|_| Gone)
    }

    /// [`Producer::schema`] from a blocking thread.
    pub fn blocking_schema(&self, schema: SchemaRef) -> Result<(), Gone> {
        self.tx
            .blocking_send(Message::Schema(schema))
            .map_err(|_| Gone)
    }

    /// [`Producer::batch`] from a blocking thread.
    pub fn blocking_batch(&self, batch: RecordBatch) -> Result<(), Gone> {
        self.tx
            .blocking_send(Message::Batch(batch))
            .map_err(|_| Gone)
    }
}

/// Why production stopped early.
pub(crate) enum Stop {
    Failed(SqlError),
    Gone,
}

impl From<SqlError> for Stop {
    fn from(e: SqlError) -> Self {
        Stop::Failed(e)
    }
}

impl From<Gone> for Stop {
    fn from(_: Gone) -> Self {
        Stop::Gone
    }
}

/// Starts a query: `connect` gets a connection, then `produce` sends the
/// schema and the batches, bounded by `timeout` from the moment it starts.
/// Returns once the schema (or an error) arrived.
///
/// When the timeout strikes or the reader drops [`Rows`], the `produce`
/// future is dropped; backends cancel the query in the database from a drop
/// guard held inside it.
pub(crate) async fn start<C, Connect, Produce, Fut>(
    timeout: Option<Duration>,
    connect: Connect,
    produce: Produce,
) -> Result<Rows, SqlError>
where
    C: Send + 'static,
    Connect: Future<Output = Result<C, SqlError>> + Send + 'static,
    Produce: FnOnce(C, Producer) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), Stop>> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel(AHEAD);
    let errors = tx.clone();
    tokio::spawn(async move {
        let result = async {
            let conn = connect.await?;
            let work = produce(conn, Producer { tx });
            match timeout {
                Some(after) => tokio::time::timeout(after, work)
                    .await
                    .unwrap_or(Err(Stop::Failed(SqlError::Timeout { after }))),
                None => work.await,
            }
        }
        .await;
        if let Err(Stop::Failed(error)) = result {
            let _ = errors.send(Message::Error(error)).await;
        }
    });
    match rx.recv().await {
        Some(Message::Schema(schema)) => Ok(Rows {
            schema,
            batches: batches(rx),
        }),
        Some(Message::Error(error)) => Err(error),
        Some(Message::Batch(_)) => Err(SqlError::Interrupted(
            "a backend sent rows before its columns".into(),
        )),
        None => Err(SqlError::Interrupted("the query task ended early".into())),
    }
}

fn batches(rx: mpsc::Receiver<Message>) -> BatchStream {
    Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await? {
                Message::Batch(batch) => return Some((Ok(batch), rx)),
                Message::Error(error) => return Some((Err(error), rx)),
                Message::Schema(_) => continue,
            }
        }
    }))
}
