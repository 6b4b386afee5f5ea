//! Group commit: concurrent writes share one SQLite transaction.
//!
//! A commit costs far more than the few rows most writes touch (the WAL
//! append of every dirty page, and the index pages shared by neighbouring
//! rows), and SQLite admits one writer at a time anyway. So when many tasks
//! write at once (the items of a fan-out starting and finishing attempts,
//! say) each write is queued as a *job*, and whichever caller next holds the
//! write connection (the *leader*) runs every queued job in one
//! `BEGIN IMMEDIATE` transaction, each inside its own savepoint, then
//! commits once and hands every caller its result.
//!
//! Invariants:
//! * A caller sees its result only after the transaction holding its work
//!   committed (or its own work failed and was rolled back to its
//!   savepoint): nothing is acknowledged that a crash could undo.
//! * One job's failure (an error or a panic) undoes that job alone; the
//!   others in the batch commit.
//! * Every job is run: a caller queues its job *before* it waits to lead,
//!   and every leader drains the queue, so a queued job is either taken by
//!   an earlier leader or by its own caller.
//! * Alone, a write runs right away on the caller's thread, as before: the
//!   batching costs nothing when there is nothing to batch.

use super::error::{DbError, DbResult};
use rusqlite::Connection;
use sluice_core::time::{Clock, EpochMillis};
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::oneshot;

/// At most this many jobs share a transaction, so one commit never holds
/// the write lock for long.
const MAX_BATCH: usize = 256;

/// Why a whole batch failed (its `BEGIN` or its `COMMIT`), kept so that
/// each of its jobs can be given the same error, SQLite's code included
/// (a full disk must still read as a full disk).
#[derive(Debug, Clone)]
enum BatchFailure {
    Sqlite(rusqlite::ffi::Error, Option<String>),
    Other(String),
}

impl BatchFailure {
    fn of(error: rusqlite::Error) -> Self {
        match error {
            rusqlite::Error::SqliteFailure(code, detail) => BatchFailure::Sqlite(code, detail),
            other => BatchFailure::Other(other.to_string()),
        }
    }

    fn to_error(&self) -> DbError {
        match self {
            BatchFailure::Sqlite(code, detail) => {
                DbError::Sqlite(rusqlite::Error::SqliteFailure(*code, detail.clone()))
            }
            BatchFailure::Other(reason) => backend(format!("the transaction failed: {reason}")),
        }
    }
}

/// Delivers a job's result once the fate of its batch is known
/// (`None`: committed).
type Deliver = Box<dyn FnOnce(Option<&BatchFailure>) + Send>;

/// One queued write: given the open transaction, it runs its work in a
/// savepoint; given the reason the batch could not begin, it runs nothing.
/// Besides the delivery, it returns its work's SQLite error, if any.
type Job = Box<
    dyn FnOnce(Result<(&Connection, EpochMillis), &BatchFailure>) -> (Deliver, Option<BatchFailure>)
        + Send,
>;

/// The queue of writes waiting for a leader.
#[derive(Default)]
pub(crate) struct WriteQueue {
    jobs: Mutex<VecDeque<Job>>,
    /// Held by the caller that is leading, so followers wait without
    /// occupying blocking threads.
    leader: tokio::sync::Mutex<()>,
}

impl WriteQueue {
    /// Runs `work` in a transaction shared with whatever else is queued,
    /// and returns its result once that transaction committed.
    pub(crate) async fn write<T, F>(
        &self,
        conn: &Arc<Mutex<Connection>>,
        clock: &Arc<dyn Clock>,
        work: F,
    ) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, EpochMillis) -> DbResult<T> + Send + 'static,
    {
        let (sender, mut receiver) = oneshot::channel::<DbResult<T>>();
        let job: Job = Box::new(move |open| {
            let result = match open {
                Ok((conn, now)) => run_in_savepoint(conn, now, work),
                Err(failure) => Err(failure.to_error()),
            };
            let own_failure = match &result {
                Err(DbError::Sqlite(rusqlite::Error::SqliteFailure(code, detail))) => {
                    Some(BatchFailure::Sqlite(*code, detail.clone()))
                }
                _ => None,
            };
            let deliver: Deliver = Box::new(move |batch_failure: Option<&BatchFailure>| {
                let result = match (result, batch_failure) {
                    (Ok(_), Some(failure)) => Err(failure.to_error()),
                    (result, _) => result,
                };
                let _ = sender.send(result);
            });
            (deliver, own_failure)
        });
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(job);
        {
            let _leading = self.leader.lock().await;
            if let Ok(result) = receiver.try_recv() {
                // An earlier leader already ran and committed this job.
                return result;
            }
            let batch = self.take_batch();
            if !batch.is_empty() {
                run_batch(conn, clock, batch).await;
            }
        }
        match receiver.await {
            Ok(result) => result,
            // Only if the blocking task running the batch died; reported
            // rather than unwrapped.
            Err(_) => Err(backend("a queued write was lost".into())),
        }
    }

    fn take_batch(&self) -> Vec<Job> {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let n = jobs.len().min(MAX_BATCH);
        jobs.drain(..n).collect()
    }
}

/// Runs the batch in one transaction: on this thread when it is a single
/// job and the connection is free (no hand-off for a lone write), else on
/// the blocking pool.
async fn run_batch(conn: &Arc<Mutex<Connection>>, clock: &Arc<dyn Clock>, batch: Vec<Job>) {
    if batch.len() == 1 {
        if let Ok(mut guard) = conn.try_lock() {
            commit_batch(&mut guard, clock.as_ref(), batch);
            return;
        }
    }
    let (conn, clock) = (Arc::clone(conn), Arc::clone(clock));
    let joined = tokio::task::spawn_blocking(move || {
        let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
        commit_batch(&mut guard, clock.as_ref(), batch);
    })
    .await;
    if let Err(error) = joined {
        tracing::error!(%error, "a batch of SQLite writes failed");
    }
}

/// A failure of the batching itself, not of a value in the database.
fn backend(message: String) -> DbError {
    DbError::Store(crate::StoreError::Backend(message))
}

/// Runs `work` inside a savepoint, rolled back if the work fails or panics.
fn run_in_savepoint<T, F>(conn: &Connection, now: EpochMillis, work: F) -> DbResult<T>
where
    F: FnOnce(&Connection, EpochMillis) -> DbResult<T>,
{
    conn.execute_batch("SAVEPOINT job")?;
    let result = catch_unwind(AssertUnwindSafe(|| work(conn, now))).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        Err(backend(format!("the write panicked: {what}")))
    });
    if conn.is_autocommit() {
        // SQLite rolled the whole transaction back itself (a full disk, an
        // I/O error): there is no savepoint left to release or roll back to.
        return result;
    }
    let end = if result.is_ok() {
        "RELEASE job"
    } else {
        "ROLLBACK TO job; RELEASE job"
    };
    match conn.execute_batch(end) {
        // The work's own error says more than a failed rollback.
        Err(_) if result.is_err() => result,
        Err(error) => Err(error.into()),
        Ok(()) => result,
    }
}

/// One transaction for the whole batch, then every result delivered.
fn commit_batch(conn: &mut Connection, clock: &dyn Clock, batch: Vec<Job>) {
    let mut jobs = batch.into_iter().peekable();
    while jobs.peek().is_some() {
        if let Err(error) = conn.execute_batch("BEGIN IMMEDIATE") {
            let failure = BatchFailure::of(error);
            for job in jobs {
                job(Err(&failure)).0(None);
            }
            return;
        }
        let mut ran: Vec<Deliver> = Vec::new();
        let mut aborted = false;
        for job in jobs.by_ref() {
            let (deliver, own_failure) = job(Ok((conn, clock.now_ms())));
            if conn.is_autocommit() {
                // This job's failure made SQLite roll back the whole
                // transaction: the jobs before it lost their work too and
                // hear this job's error; the rest go in a new transaction.
                let failure = own_failure.unwrap_or_else(|| {
                    BatchFailure::Other("SQLite rolled back the shared transaction".into())
                });
                for earlier in ran.drain(..) {
                    earlier(Some(&failure));
                }
                deliver(None);
                aborted = true;
                break;
            }
            ran.push(deliver);
        }
        if aborted {
            continue;
        }
        let failure = conn.execute_batch("COMMIT").err().map(BatchFailure::of);
        if failure.is_some() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for deliver in ran {
            deliver(failure.as_ref());
        }
    }
}
