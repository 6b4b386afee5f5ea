//! The warm pool of one function: at most `concurrency` processes, reused
//! most-recently-idle first (the warmest caches), stopped after `idle_timeout`.
//!
//! A semaphore with `concurrency` permits bounds the invocations in flight. A
//! process is either idle in the pool or leased with a permit, and a new one is
//! started only when a permit holder finds no idle process, so the number of
//! processes never exceeds `concurrency`. A [`Lease`] dropped without
//! [`Lease::release`] (timeout, crash, cancelled `invoke`) stops its process:
//! a process in an unknown state is never reused.

use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};
use tracing::debug;

use super::process::Worker;
use super::LambdaSpec;
use crate::error::HandlerError;

struct Idle {
    worker: Worker,
    since: Instant,
}

/// The processes of one function.
pub(crate) struct Pool {
    pub spec: Arc<LambdaSpec>,
    permits: Semaphore,
    idle: Mutex<Vec<Idle>>,
    reaper: OnceLock<()>,
}

/// A process reserved for one invocation.
pub(crate) struct Lease<'a> {
    pool: &'a Pool,
    worker: Option<Worker>,
    _permit: SemaphorePermit<'a>,
    /// The process was started for this lease.
    pub cold: bool,
    /// Time to spawn it (cold only).
    pub spawn_us: u64,
}

/// No permit came free before the deadline.
pub(crate) struct NoCapacity;

impl Pool {
    pub(crate) fn new(spec: LambdaSpec) -> Arc<Pool> {
        Arc::new(Pool {
            permits: Semaphore::new(spec.concurrency.max(1) as usize),
            spec: Arc::new(spec),
            idle: Mutex::default(),
            reaper: OnceLock::new(),
        })
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of idle processes (for tests and metrics).
    pub(crate) fn idle_count(&self) -> usize {
        self.idle().len()
    }

    /// Pids of the idle processes.
    pub(crate) fn idle_pids(&self) -> Vec<u32> {
        self.idle().iter().map(|i| i.worker.pid).collect()
    }

    /// A warm process, or a new one if none is idle; waits (until `deadline`)
    /// while `concurrency` processes are busy.
    pub(crate) async fn acquire(
        self: &Arc<Self>,
        deadline: Instant,
    ) -> Result<Result<Lease<'_>, HandlerError>, NoCapacity> {
        self.start_reaper();
        let permit = tokio::time::timeout_at(deadline.into(), self.permits.acquire())
            .await
            .map_err(|_| NoCapacity)?
            .map_err(|_| NoCapacity)?;
        loop {
            let warm = self.idle().pop();
            match warm {
                Some(idle) if idle.worker.is_dead() => {
                    debug!(pid = idle.worker.pid, "dropping a dead idle lambda process");
                }
                Some(idle) => {
                    return Ok(Ok(Lease {
                        pool: self,
                        worker: Some(idle.worker),
                        _permit: permit,
                        cold: false,
                        spawn_us: 0,
                    }))
                }
                None => break,
            }
        }
        let started = Instant::now();
        let worker = match Worker::spawn(&self.spec).await {
            Ok(worker) => worker,
            Err(err) => return Ok(Err(err)),
        };
        Ok(Ok(Lease {
            pool: self,
            worker: Some(worker),
            _permit: permit,
            cold: true,
            spawn_us: crate::oneshot::micros(started.elapsed()),
        }))
    }

    /// Stops processes idle for longer than the idle timeout, on a timer that
    /// ends when the pool is dropped.
    fn start_reaper(self: &Arc<Self>) {
        self.reaper.get_or_init(|| {
            let pool: Weak<Pool> = Arc::downgrade(self);
            let period = (self.spec.idle_timeout / 4)
                .clamp(Duration::from_millis(10), Duration::from_secs(5));
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(period).await;
                    let Some(pool) = pool.upgrade() else { break };
                    if let Some(cutoff) = Instant::now().checked_sub(pool.spec.idle_timeout) {
                        pool.stop_idle_since(cutoff);
                    }
                }
            });
        });
    }

    /// Stops idle processes unused since before `cutoff`, and dead ones.
    pub(crate) fn stop_idle_since(&self, cutoff: Instant) {
        let stopped: Vec<Idle> = {
            let mut idle = self.idle();
            let (keep, stop) = std::mem::take(&mut *idle)
                .into_iter()
                .partition(|i| i.since > cutoff && !i.worker.is_dead());
            *idle = keep;
            stop
        };
        for i in &stopped {
            debug!(pid = i.worker.pid, "stopping idle lambda process");
        }
    }
}

impl Lease<'_> {
    pub(crate) fn worker(&self) -> &Worker {
        self.worker
            .as_ref()
            .expect("a lease holds its worker until released")
    }

    /// Returns a healthy process to the pool.
    pub(crate) fn release(mut self) {
        if let Some(worker) = self.worker.take() {
            if !worker.is_dead() {
                self.pool.idle().push(Idle {
                    worker,
                    since: Instant::now(),
                });
            }
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            debug!(pid = worker.pid, "lambda process not released; stopping it");
            worker.kill();
        }
    }
}
