//! Notices that a run being delivered here was cancelled elsewhere.
//!
//! `sluice cancel` reaches the process it is sent to; with several
//! processes on one PostgreSQL store, the delivery may be running in
//! another one. Each delivery therefore reads its run's status every
//! [`POLL_EVERY`] and, once the run is `cancelled`, stops: the delivery
//! drops its work (killing the handler's process group), abandons the
//! attempts in flight and acknowledges the message. One read of one row a
//! second per delivery in flight (not per fan-out item) is the price.

use sluice_core::RunStatus;
use sluice_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often a delivery looks at its run's status.
pub(crate) const POLL_EVERY: Duration = Duration::from_secs(1);

/// Watches one run's status until dropped.
pub(crate) struct CancelWatch {
    task: JoinHandle<()>,
    cancelled: watch::Receiver<bool>,
}

impl CancelWatch {
    pub fn start(store: Arc<dyn Store>, run_id: String) -> CancelWatch {
        let (tx, cancelled) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(POLL_EVERY);
            ticker.tick().await; // the first tick is immediate
            loop {
                ticker.tick().await;
                match store.get_run(&run_id).await {
                    Ok(run) if run.status == RunStatus::Cancelled => {
                        let _ = tx.send(true);
                        return;
                    }
                    Ok(run) if run.status.is_terminal() => return,
                    Ok(_) => {}
                    Err(err) => {
                        tracing::warn!(run_id, error = %err, "could not read the run's status")
                    }
                }
            }
        });
        CancelWatch { task, cancelled }
    }

    /// Resolves once the run is seen cancelled (never, if it is not).
    pub async fn cancelled(&self) {
        let mut rx = self.cancelled.clone();
        loop {
            if *rx.borrow_and_update() {
                return;
            }
            if rx.changed().await.is_err() {
                if *rx.borrow() {
                    return;
                }
                // The watcher ended without a cancel: wait forever.
                std::future::pending::<()>().await;
            }
        }
    }

    /// Whether the run has been seen cancelled.
    pub fn is_cancelled(&self) -> bool {
        *self.cancelled.borrow()
    }
}

impl Drop for CancelWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}
