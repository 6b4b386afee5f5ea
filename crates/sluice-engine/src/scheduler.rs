//! The scheduler: fires schedule triggers at their times, exactly once across
//! every process sharing the store.
//!
//! Next fire times live in the store. At start, a schedule that is new or whose
//! expression or time zone changed gets a fresh next time; otherwise the stored
//! one is kept, so downtime is noticed: a fire time more than the grace period
//! (`EngineOptions::schedule_grace`, 60 s by default) in the past was missed, and `catch_up` decides between one catch-up run and
//! skipping. `overlap` decides what happens while the previous run is still
//! going: skip, queue behind it (a FIFO group per schedule), or allow.
//! Each firing is a compare-and-set on the stored time, in the same
//! transaction as the run it submits.

use crate::engine::Engine;
use crate::plan::{Consumer, SchedulePlan, TargetKind};
use crate::{Dispatched, EngineError};
use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sluice_core::id::new_id;
use sluice_core::time::{now_ms, EpochMillis};
use sluice_core::transform::apply_template;
use sluice_core::RunKind;
use sluice_spec::Overlap;
use sluice_store::{Firing, NewMessage, NewRun, ScheduleState};
use std::collections::HashMap;
use std::time::Duration;

/// Longest sleep between looks at the store (another process may have fired).
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// A schedule as `sluice schedules` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleView {
    pub name: String,
    pub expression: String,
    pub timezone: String,
    pub next_fire_at: Option<EpochMillis>,
    pub last_fired_at: Option<EpochMillis>,
    pub last_run_id: Option<String>,
    pub catch_up: &'static str,
    pub overlap: Overlap,
}

impl Engine {
    /// Runs the scheduler until the task is aborted.
    pub fn run_scheduler(&self) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            if engine.plan().schedules.is_empty() {
                return;
            }
            loop {
                let wait = match engine.fire_due_schedules().await {
                    Ok(wait) => wait,
                    Err(err) => {
                        tracing::error!(error = %err, "scheduler could not read or fire schedules; retrying");
                        Duration::from_secs(1)
                    }
                };
                tokio::time::sleep(wait).await;
            }
        })
    }

    /// Fires every due schedule; returns how long to sleep before the next one.
    async fn fire_due_schedules(&self) -> Result<Duration, EngineError> {
        let states = self.synced_schedule_states().await?;
        let now = now_ms();
        let mut earliest: Option<EpochMillis> = None;
        for plan in &self.plan().schedules {
            let Some(state) = states.get(&plan.name) else {
                continue;
            };
            let Some(due) = state.next_fire_at else {
                continue;
            };
            if due <= now {
                self.fire(plan, state, due, now).await?;
            } else {
                earliest = Some(earliest.map_or(due, |e| e.min(due)));
            }
        }
        let until = earliest
            .map(|at| Duration::from_millis((at - now).max(0) as u64))
            .unwrap_or(MAX_SLEEP);
        Ok(until.min(MAX_SLEEP))
    }

    /// The stored states, after giving new or changed schedules a next fire time.
    /// Stores every schedule's state (its next fire time) before anything
    /// can fire one by hand: a manual trigger racing the scheduler's first
    /// registration would otherwise have its record overwritten.
    pub async fn register_schedules(&self) -> Result<(), EngineError> {
        self.synced_schedule_states().await.map(drop)
    }

    async fn synced_schedule_states(&self) -> Result<HashMap<String, ScheduleState>, EngineError> {
        let mut states: HashMap<String, ScheduleState> = self
            .store()
            .schedule_states()
            .await?
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect();
        for plan in &self.plan().schedules {
            let tz_name = plan.timezone.name().to_string();
            let current = states.get(&plan.name);
            if current.is_some_and(|s| s.expression == plan.expression && s.timezone == tz_name) {
                continue;
            }
            let now = Utc::now();
            let state = ScheduleState {
                name: plan.name.clone(),
                expression: plan.expression.clone(),
                timezone: tz_name,
                next_fire_at: plan
                    .schedule
                    .next_after(now, now, plan.timezone)
                    .map(|t| t.timestamp_millis()),
                last_fired_at: current.and_then(|s| s.last_fired_at),
                last_run_id: current.and_then(|s| s.last_run_id.clone()),
            };
            tracing::info!(schedule = %plan.name, next_fire_at = ?state.next_fire_at, "schedule registered");
            self.store().put_schedule_state(&state).await?;
            states.insert(plan.name.clone(), state);
        }
        Ok(states)
    }

    async fn fire(
        &self,
        plan: &SchedulePlan,
        state: &ScheduleState,
        due: EpochMillis,
        now: EpochMillis,
    ) -> Result<(), EngineError> {
        let missed = now - due > self.inner.options.schedule_grace.as_millis() as i64;
        let from = at(if missed { now } else { due });
        let next = plan
            .schedule
            .next_after(from, at(due), plan.timezone)
            .map(|t| t.timestamp_millis());
        let firing = if missed && !plan.catch_up_once {
            tracing::warn!(schedule = %plan.name, due, "fire time missed while Sluice was down; skipped (catch_up: skip)");
            Firing::Skip
        } else if plan.overlap == Overlap::Skip && self.previous_run_active(state).await? {
            tracing::warn!(schedule = %plan.name, due, "previous run still going; this firing is skipped (overlap: skip)");
            Firing::Skip
        } else {
            self.firing_for(plan, due, format!("schedule:{}", plan.name))?
        };
        if self
            .store()
            .fire_schedule(&plan.name, due, next, &firing)
            .await?
        {
            if let Firing::Run { run, message } = &firing {
                tracing::info!(schedule = %plan.name, run_id = %run.id, late_ms = now - due, "schedule fired");
                self.wake(&message.queue);
            }
        }
        Ok(())
    }

    async fn previous_run_active(&self, state: &ScheduleState) -> Result<bool, EngineError> {
        let Some(run_id) = &state.last_run_id else {
            return Ok(false);
        };
        match self.store().get_run(run_id).await {
            Ok(run) => Ok(!run.status.is_terminal()),
            Err(sluice_store::StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The run (or message) one firing submits. With `overlap: queue` every
    /// firing, timed or manual, joins the schedule's FIFO group, so each
    /// waits for the one before it.
    fn firing_for(
        &self,
        plan: &SchedulePlan,
        due: EpochMillis,
        trigger: String,
    ) -> Result<Firing, EngineError> {
        let group = (plan.overlap == Overlap::Queue).then(|| format!("schedule:{}", plan.name));
        let event = scheduled_event(&plan.name, &plan.expression, due);
        let input = plan
            .target
            .input
            .as_ref()
            .map_or_else(|| event.clone(), |t| apply_template(t, &event));
        let (queue, run_target) = match &plan.target.kind {
            TargetKind::Function(f) => (
                crate::plan::function_queue(f),
                Some((RunKind::Function, f.clone())),
            ),
            TargetKind::Pipeline(p) => (
                crate::plan::pipeline_queue(p),
                Some((RunKind::Pipeline, p.clone())),
            ),
            // Refused when the plan is built (see `plan_routes`).
            TargetKind::Topic(t) => {
                return Err(EngineError::Invalid(format!(
                "schedule `{}` targets topic `{t}`; schedules start functions, pipelines or queues",
                plan.name
            )))
            }
            TargetKind::Queue(q) => {
                let queue = self
                    .plan()
                    .queue(q)
                    .ok_or_else(|| EngineError::unknown("queue", q, std::iter::empty()))?;
                let target = match &queue.consumer {
                    Some(Consumer::Function(f)) => Some((RunKind::Function, f.clone())),
                    Some(Consumer::Pipeline(p)) => Some((RunKind::Pipeline, p.clone())),
                    Some(Consumer::Topic(t)) => Some((RunKind::Notification, t.clone())),
                    None => None,
                };
                (q.clone(), target)
            }
        };
        let mut message = NewMessage {
            queue,
            body: Value::Null,
            group,
            ..Default::default()
        };
        Ok(match run_target {
            Some((kind, target)) => {
                let run = NewRun {
                    id: new_id("run"),
                    kind,
                    target,
                    input,
                    trigger,
                };
                message.run_id = Some(run.id.clone());
                Firing::Run { run, message }
            }
            None => Firing::Message(NewMessage {
                body: input,
                ..message
            }),
        })
    }

    /// Fires a schedule now, outside its timetable (`sluice trigger NAME`).
    ///
    /// The run is always started (it was asked for), but it is recorded as
    /// the schedule's last run: a timed firing with `overlap: skip` skips
    /// while it is going, `overlap: queue` puts it in the schedule's FIFO
    /// group, and `sluice schedules` shows it. The next fire time is kept.
    pub async fn trigger_schedule(&self, name: &str) -> Result<Dispatched, EngineError> {
        let schedules = &self.plan().schedules;
        let plan = schedules.iter().find(|s| s.name == name).ok_or_else(|| {
            EngineError::unknown("schedule", name, schedules.iter().map(|s| &s.name))
        })?;
        // The state row must exist before the manual firing updates it.
        self.synced_schedule_states().await?;
        let now = now_ms();
        let firing = self.firing_for(plan, now, format!("schedule:{name}:manual"))?;
        let fired = self.store().fire_schedule_now(name, now, &firing).await?;
        if let Firing::Run { message, .. } | Firing::Message(message) = &firing {
            tracing::info!(schedule = %name, run_id = ?fired.run_id, "schedule triggered manually");
            self.wake(&message.queue);
        }
        Ok(Dispatched {
            run_id: fired.run_id,
            message_id: fired.message_id.unwrap_or_default(),
            duplicate: false,
        })
    }

    /// Every schedule with its next and last fire times.
    pub async fn schedules(&self) -> Result<Vec<ScheduleView>, EngineError> {
        let states = self.synced_schedule_states().await?;
        Ok(self
            .plan()
            .schedules
            .iter()
            .map(|plan| {
                let state = states.get(&plan.name);
                ScheduleView {
                    name: plan.name.clone(),
                    expression: plan.expression.clone(),
                    timezone: plan.timezone.name().to_string(),
                    next_fire_at: state.and_then(|s| s.next_fire_at),
                    last_fired_at: state.and_then(|s| s.last_fired_at),
                    last_run_id: state.and_then(|s| s.last_run_id.clone()),
                    catch_up: if plan.catch_up_once { "once" } else { "skip" },
                    overlap: plan.overlap,
                }
            })
            .collect())
    }
}

fn at(ms: EpochMillis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(Utc::now)
}

/// The input of a scheduled run, shaped like EventBridge's "Scheduled Event";
/// `detail.logical_date` is the time the run was due, not when it started.
fn scheduled_event(name: &str, expression: &str, due: EpochMillis) -> Value {
    let time = at(due).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "version": "0",
        "id": new_id("evt"),
        "detail-type": "Scheduled Event",
        "source": "sluice.schedule",
        "account": "sluice",
        "time": time,
        "region": "local",
        "resources": [format!("schedule:{name}")],
        "detail": { "schedule": name, "expression": expression, "logical_date": time },
    })
}
