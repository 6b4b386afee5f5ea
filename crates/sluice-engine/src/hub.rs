//! In-process notifications: a run changed, a run has new log lines.
//!
//! Waiters (the HTTP long-poll for `sluice invoke` and `sluice logs --follow`)
//! subscribe, then re-read the store; a notice only says "look again", so a
//! lagging subscriber that misses notices loses nothing but latency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A run's status, steps or attempts changed.
    RunChanged {
        run_id: String,
    },
    /// A run reached a terminal status.
    RunFinished {
        run_id: String,
    },
    LogsAppended {
        run_id: String,
    },
}

impl Notice {
    /// The run the notice is about.
    pub fn run_id(&self) -> &str {
        match self {
            Notice::RunChanged { run_id }
            | Notice::RunFinished { run_id }
            | Notice::LogsAppended { run_id } => run_id,
        }
    }
}

/// A broadcast channel of [`Notice`]s, and how many were published.
#[derive(Debug, Clone)]
pub struct Hub {
    tx: broadcast::Sender<Notice>,
    generation: Arc<AtomicU64>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            tx: broadcast::channel(4096).0,
            generation: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Hub {
    pub fn publish(&self, notice: Notice) {
        // Counted before it is sent: whoever hears it sees the new count.
        self.generation.fetch_add(1, Ordering::SeqCst);
        // No receivers is fine: nobody is waiting.
        let _ = self.tx.send(notice);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.tx.subscribe()
    }

    /// Notices published so far. A read of the store made at generation
    /// `g` is still current for anyone woken by a notice up to `g`: every
    /// later change publishes a notice, and so a higher generation. Live
    /// feeds use it to share one read among all the clients of a run.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}
