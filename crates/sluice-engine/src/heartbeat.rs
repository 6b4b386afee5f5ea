//! Keeps a lease alive while its delivery works, however long that takes.
//!
//! This is how Sluice has no 15-minute limit: a delivery holds its message for
//! the queue's visibility timeout and a heartbeat extends it every third of
//! that, so a crashed process's messages reappear quickly while a live one can
//! work for hours.

use sluice_store::{Receipt, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Extends the lease until dropped.
pub(crate) struct Heartbeat {
    task: JoinHandle<()>,
}

impl Heartbeat {
    pub fn start(store: Arc<dyn Store>, receipt: Receipt, visibility_timeout_ms: u64) -> Self {
        let every = Duration::from_millis((visibility_timeout_ms / 3).max(50));
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.tick().await; // the first tick is immediate
            loop {
                ticker.tick().await;
                if let Err(err) = store.extend_lease(&receipt, visibility_timeout_ms).await {
                    tracing::warn!(message_id = %receipt.message_id, error = %err, "could not extend lease");
                    if matches!(err, sluice_store::StoreError::LeaseLost { .. }) {
                        return;
                    }
                }
            }
        });
        Heartbeat { task }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}
