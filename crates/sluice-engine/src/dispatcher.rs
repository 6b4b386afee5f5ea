//! One dispatcher per consumed queue: lease within the queue's concurrency,
//! hand each lease to a delivery, sleep until there is something to do.
//!
//! The dispatcher never polls blindly: it sleeps until the earliest of a local
//! wake-up (this process enqueued), the store's next visibility time (a delay,
//! a backoff or a lease expiring), a delivery finishing, or the poll interval
//! (messages enqueued by other processes sharing the store).

use crate::delivery::Delivery;
use crate::engine::Engine;
use crate::plan::Consumer;
use sluice_core::time::now_ms;
use sluice_store::QueueDef;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

pub(crate) struct Dispatcher {
    engine: Engine,
    def: QueueDef,
    consumer: Consumer,
    slots: Arc<Semaphore>,
    wakeup: Arc<Notify>,
}

impl Dispatcher {
    pub fn new(engine: Engine, def: QueueDef, consumer: Consumer) -> Self {
        let limit = def
            .concurrency
            .unwrap_or(engine.inner.options.default_queue_concurrency)
            .max(1);
        let wakeup = engine
            .inner
            .wakeups
            .get(&def.name)
            .cloned()
            .unwrap_or_default();
        Dispatcher {
            engine,
            def,
            consumer,
            slots: Arc::new(Semaphore::new(limit as usize)),
            wakeup,
        }
    }

    pub async fn run(self) {
        let queue = self.def.name.clone();
        tracing::debug!(queue, "dispatcher started");
        loop {
            let free = self.slots.available_permits();
            let leased = if free == 0 {
                0
            } else {
                self.lease_and_start(free).await
            };
            if leased == free && free > 0 {
                continue; // there may be more waiting
            }
            self.sleep_until_work().await;
        }
    }

    /// Leases up to `free` messages and starts a delivery for each. Returns how many.
    async fn lease_and_start(&self, free: usize) -> usize {
        let store = &self.engine.inner.store;
        let worker = &self.engine.inner.options.worker_id;
        let leases = match store.lease(&self.def.name, worker, free).await {
            Ok(leases) => leases,
            Err(err) => {
                tracing::error!(queue = %self.def.name, error = %err, "could not lease messages; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                return 0;
            }
        };
        let count = leases.len();
        for lease in leases {
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                // Cannot happen: we leased at most `free`. Leave the lease to expire.
                tracing::warn!(queue = %self.def.name, "leased more messages than free slots");
                break;
            };
            let delivery_run_id = lease.run_id.clone();
            let delivery = Delivery::new(
                self.engine.clone(),
                self.def.clone(),
                self.consumer.clone(),
                lease,
            );
            let wakeup = self.wakeup.clone();
            let (work, abort) = futures::future::abortable(delivery.run());
            let run_id = delivery_run_id.clone();
            let engine = self.engine.clone();
            if let Some(id) = &run_id {
                engine
                    .inner
                    .in_flight
                    .lock()
                    .expect("in-flight map poisoned")
                    .insert(id.clone(), abort);
            }
            tokio::spawn(async move {
                if work.await.is_err() {
                    tracing::info!(run_id = ?run_id, "delivery stopped: the run was cancelled");
                }
                if let Some(id) = &run_id {
                    engine
                        .inner
                        .in_flight
                        .lock()
                        .expect("in-flight map poisoned")
                        .remove(id);
                }
                drop(permit);
                wakeup.notify_one();
            });
        }
        count
    }

    async fn sleep_until_work(&self) {
        let poll = self.engine.inner.options.poll_interval;
        let mut wait = poll;
        if self.slots.available_permits() > 0 {
            if let Ok(Some(at)) = self.engine.inner.store.next_wakeup(&self.def.name).await {
                let until = Duration::from_millis((at - now_ms()).max(0) as u64);
                wait = wait.min(until);
            }
        }
        if wait.is_zero() {
            return;
        }
        let _ = tokio::time::timeout(wait, self.wakeup.notified()).await;
    }
}
