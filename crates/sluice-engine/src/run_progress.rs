//! A run's own progress: one figure for the whole run, aggregated from its
//! phases, the items of a fan-out phase and the steps' own reports.
//!
//! Every phase weighs the same. Inside the phase being run, a plain step
//! counts by its own reports (`done`/`total`), a fan-out phase by its items:
//! those settled (succeeded or failed for good) plus the reported fraction of
//! those in flight. The figure is written as a progress line of the run
//! itself (no step), in percent (`{"done": 40, "total": 100, "message":
//! "phase 2 of 3 `transform`: 5 of 8 items"}`), only when the whole percent
//! changes: a run writes at most about a hundred of them however many items
//! it has, and a watcher sees the run reach 100% exactly when it succeeds.

use crate::logs::{LogScope, RunLog};
use sluice_runtime::{LogSink, ProgressReport};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The progress of one delivery of a run.
pub(crate) struct RunProgress {
    log: Arc<RunLog>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    phases: usize,
    /// The phase being run (0-based) and its name.
    phase: usize,
    phase_name: String,
    /// The phase's own fraction, from its reports (a plain step).
    fraction: f64,
    /// A fan-out phase: its items, those settled, and those in flight by step.
    items: Option<Items>,
    /// The last percent written.
    written: Option<u64>,
}

#[derive(Default)]
struct Items {
    total: u64,
    settled: u64,
    in_flight: HashMap<String, f64>,
}

impl RunProgress {
    pub fn new(run_log: Arc<RunLog>, phases: usize) -> Arc<RunProgress> {
        Arc::new(RunProgress {
            log: run_log,
            state: Mutex::new(State {
                phases: phases.max(1),
                // Starting at 0% goes without saying.
                written: Some(0),
                ..State::default()
            }),
        })
    }

    /// A run-scoped log of `run_id` for [`RunProgress::new`].
    pub fn log_of(
        run_id: &str,
        store: Arc<dyn sluice_store::Store>,
        hub: crate::hub::Hub,
    ) -> Arc<RunLog> {
        let scope = LogScope {
            run_id: run_id.to_string(),
            step: None,
            attempt_id: None,
        };
        RunLog::new(scope, store, hub)
    }

    /// Phase `index` (0-based) named `name` starts (or was already done).
    pub fn phase_started(&self, index: usize, name: &str) {
        self.update(|s| {
            s.phase = index;
            s.phase_name = name.to_string();
            s.fraction = 0.0;
            s.items = None;
        });
    }

    /// The phase being run fans out over `total` items.
    pub fn items(&self, total: u64) {
        self.update(|s| {
            s.items = Some(Items {
                total,
                ..Items::default()
            })
        });
    }

    /// Item step `step` of the current fan-out settled (succeeded, or failed for good).
    pub fn item_settled(&self, step: &str) {
        self.update(|s| {
            if let Some(items) = &mut s.items {
                items.in_flight.remove(step);
                items.settled = (items.settled + 1).min(items.total);
            }
        });
    }

    /// Step `step` reported progress of its own.
    pub fn step_reported(&self, step: &str, report: &ProgressReport) {
        let Some(total) = report.total.filter(|t| *t > 0) else {
            return;
        };
        let fraction = (report.done as f64 / total as f64).clamp(0.0, 1.0);
        self.update(|s| match &mut s.items {
            Some(items) if step != s.phase_name => {
                items.in_flight.insert(step.to_string(), fraction);
            }
            _ => s.fraction = fraction,
        });
    }

    /// The run's last phase succeeded: 100%.
    pub fn finished(&self) {
        self.update(|s| {
            s.phase = s.phases;
            s.fraction = 0.0;
            s.items = None;
        });
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        let report = {
            let mut state = self.state.lock().expect("run progress poisoned");
            change(&mut state);
            let percent = state.percent();
            if state.written == Some(percent) {
                return;
            }
            state.written = Some(percent);
            ProgressReport {
                done: percent,
                total: Some(100),
                message: Some(state.describe()),
            }
        };
        self.log.progress(report);
    }

    /// Writes what is buffered (at the end of a delivery).
    pub async fn flush(&self) {
        self.log.flush().await;
    }

    /// Flushes as reports arrive, until the handle is aborted.
    pub fn flush_periodically(&self) -> tokio::task::JoinHandle<()> {
        self.log.flush_periodically()
    }
}

impl State {
    fn phase_fraction(&self) -> f64 {
        match &self.items {
            Some(items) if items.total > 0 => {
                let moving: f64 = items.in_flight.values().sum();
                ((items.settled as f64 + moving) / items.total as f64).min(1.0)
            }
            Some(_) => 1.0,
            None => self.fraction,
        }
    }

    /// Whole percent, 100 only once every phase is done.
    fn percent(&self) -> u64 {
        if self.phase >= self.phases {
            return 100;
        }
        let done = (self.phase as f64 + self.phase_fraction()) / self.phases as f64;
        ((done * 100.0).floor() as u64).min(99)
    }

    fn describe(&self) -> String {
        if self.phase >= self.phases {
            return format!("{} of {} phases done", self.phases, self.phases);
        }
        let head = format!(
            "phase {} of {} `{}`",
            self.phase + 1,
            self.phases,
            self.phase_name
        );
        match &self.items {
            Some(items) => format!("{head}: {} of {} items", items.settled, items.total),
            None => head,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(phases: usize) -> State {
        State {
            phases,
            ..State::default()
        }
    }

    #[test]
    fn phases_weigh_the_same_and_items_split_their_phase() {
        let mut s = state(4);
        assert_eq!(s.percent(), 0);
        s.phase = 1;
        s.phase_name = "transform".into();
        s.items = Some(Items {
            total: 10,
            settled: 5,
            in_flight: HashMap::from([("transform[5]".into(), 0.5)]),
        });
        // (1 + 5.5/10) / 4 = 38.75%
        assert_eq!(s.percent(), 38);
        assert_eq!(s.describe(), "phase 2 of 4 `transform`: 5 of 10 items");
    }

    #[test]
    fn a_run_reaches_100_only_when_finished() {
        let mut s = state(1);
        s.fraction = 1.0;
        assert_eq!(s.percent(), 99, "a step at 100% has not finished yet");
        s.phase = 1;
        assert_eq!(s.percent(), 100);
    }

    #[test]
    fn an_empty_fan_out_is_a_done_phase() {
        let mut s = state(2);
        s.items = Some(Items::default());
        assert_eq!(s.percent(), 50);
    }
}
