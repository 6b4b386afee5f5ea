//! In-process notifications: a run changed, a run has new log lines.
//!
//! Waiters (the HTTP long-poll for `sluice invoke` and `sluice logs --follow`)
//! subscribe, then re-read the store; a notice only says "look again", so a
//! lagging subscriber that misses notices loses nothing but latency.

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

/// A broadcast channel of [`Notice`]s.
#[derive(Debug, Clone)]
pub struct Hub(broadcast::Sender<Notice>);

impl Default for Hub {
    fn default() -> Self {
        Hub(broadcast::channel(4096).0)
    }
}

impl Hub {
    pub fn publish(&self, notice: Notice) {
        // No receivers is fine: nobody is waiting.
        let _ = self.0.send(notice);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.0.subscribe()
    }
}
