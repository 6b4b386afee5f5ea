//! The event bus: events in, rules matched, targets started.
//!
//! An event is recorded in the store's event log first, then matched against
//! the compiled rule set, and each matching target is started with an
//! idempotency key derived from the event id, rule and target, so publishing
//! is safe to retry: a target never starts twice for one event.
//!
//! An event is marked routed once every target has it. One recorded but not
//! routed (the process stopped in between, or a target could not be
//! started) is routed again by [`Engine::run_event_recovery`], with the same
//! keys, so no event is lost and, within the targets' deduplication window,
//! none is delivered twice.

use crate::engine::{Engine, SubmitRequest};
use crate::plan::{TargetKind, TargetPlan};
use crate::EngineError;
use chrono::{TimeZone, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sluice_core::transform::apply_template;
use sluice_core::RunKind;
use sluice_store::{EventRecord, NewEvent};

/// How often, and after how long, events left unrouted are routed again.
pub const RECOVER_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// What starting a target did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dispatched {
    /// The run started (absent when the target is a plain queue).
    pub run_id: Option<String>,
    pub message_id: String,
    /// True when the idempotency key matched earlier work, which is returned.
    pub duplicate: bool,
}

/// One published event and where it went.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedEvent {
    pub event_id: String,
    pub seq: i64,
    pub deliveries: Vec<Delivered>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Delivered {
    /// `rule:NAME` or `trigger:NAME`.
    pub source: String,
    #[serde(flatten)]
    pub dispatched: Dispatched,
}

impl Engine {
    /// Starts a target with an event: the target's input template applied to
    /// the event, or the event itself.
    pub async fn dispatch(
        &self,
        target: &TargetPlan,
        event: &Value,
        trigger: String,
        idempotency_key: Option<String>,
    ) -> Result<Dispatched, EngineError> {
        let input = match &target.input {
            Some(template) => apply_template(template, event),
            None => event.clone(),
        };
        let (kind, name) = match &target.kind {
            TargetKind::Function(f) => (RunKind::Function, f),
            TargetKind::Pipeline(p) => (RunKind::Pipeline, p),
            TargetKind::Topic(t) => {
                let published = self
                    .publish(t, None, input, trigger, idempotency_key)
                    .await?;
                return Ok(Dispatched {
                    run_id: published.runs.first().cloned(),
                    message_id: format!("topic:{t}"),
                    duplicate: published.duplicate,
                });
            }
            TargetKind::Queue(q) => {
                let sent = self.send(q, input, None, idempotency_key, 0).await?;
                return Ok(Dispatched {
                    run_id: sent.run_id,
                    message_id: sent.message_id,
                    duplicate: sent.duplicate,
                });
            }
        };
        let request = SubmitRequest {
            kind,
            target: name.clone(),
            input,
            trigger,
            idempotency_key,
        };
        let submitted = self.submit(request).await?;
        Ok(Dispatched {
            run_id: Some(submitted.run_id),
            message_id: submitted.message_id,
            duplicate: submitted.duplicate,
        })
    }

    /// Records events and starts every target whose rule matches.
    pub async fn put_events(
        &self,
        entries: Vec<NewEvent>,
    ) -> Result<Vec<PublishedEvent>, EngineError> {
        let mut published = Vec::with_capacity(entries.len());
        for entry in entries {
            let seq = self.store().append_event(&entry).await?;
            let record = self
                .store()
                .read_events(seq - 1, 1)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    EngineError::Invalid(format!("event {seq} vanished after it was recorded"))
                })?;
            published.push(self.route(&record).await?);
            self.store().mark_event_routed(seq).await?;
        }
        Ok(published)
    }

    /// Routes, every [`RECOVER_EVERY`], the events recorded at least that
    /// long ago and never routed, until the task is aborted.
    pub fn run_event_recovery(&self) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(RECOVER_EVERY);
            loop {
                ticker.tick().await;
                let recorded_by = sluice_core::time::now_ms() - RECOVER_EVERY.as_millis() as i64;
                if let Err(err) = engine.route_unrouted(recorded_by).await {
                    tracing::warn!(error = %err, "could not route events left unrouted; will try again");
                }
            }
        })
    }

    /// Routes the recorded event `seq` and marks it routed.
    pub(crate) async fn route_recorded_one(&self, seq: i64) -> Result<(), EngineError> {
        let record = self
            .store()
            .read_events(seq - 1, 1)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| EngineError::Invalid(format!("event {seq} is not in the store")))?;
        self.route(&record).await?;
        self.store().mark_event_routed(seq).await?;
        Ok(())
    }

    /// Routes the events recorded by `recorded_by` that were never routed;
    /// returns how many.
    pub async fn route_unrouted(&self, recorded_by: i64) -> Result<usize, EngineError> {
        let mut routed = 0;
        loop {
            let events = self.store().unrouted_events(recorded_by, 100).await?;
            if events.is_empty() {
                return Ok(routed);
            }
            for record in &events {
                tracing::warn!(event_id = %record.id, "routing an event recorded but not routed before");
                self.route(record).await?;
                self.store().mark_event_routed(record.seq).await?;
                routed += 1;
            }
        }
    }

    async fn route(&self, record: &EventRecord) -> Result<PublishedEvent, EngineError> {
        let envelope = envelope(record);
        let mut deliveries = Vec::new();
        for route in self.plan().routes.matching(&envelope) {
            let key = format!("event:{}:{}:{}", record.id, route.source, route.index);
            let trigger =
                crate::own_events::trigger_for(&route.source, &record.source, &record.detail);
            let dispatched = self
                .dispatch(&route.target, &envelope, trigger, Some(key))
                .await?;
            tracing::info!(event_id = %record.id, route = %route.source, run_id = ?dispatched.run_id, "event routed");
            deliveries.push(Delivered {
                source: route.source.clone(),
                dispatched,
            });
        }
        if deliveries.is_empty() {
            tracing::debug!(event_id = %record.id, "event matched no rule");
        }
        Ok(PublishedEvent {
            event_id: record.id.clone(),
            seq: record.seq,
            deliveries,
        })
    }
}

/// The event as rules and handlers see it: the shape of an EventBridge event.
pub fn envelope(record: &EventRecord) -> Value {
    let time = Utc
        .timestamp_millis_opt(record.at)
        .single()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    json!({
        "version": "0",
        "id": record.id,
        "detail-type": record.detail_type,
        "source": record.source,
        "account": "sluice",
        "time": time,
        "region": "local",
        "resources": [],
        "detail": record.detail,
    })
}
