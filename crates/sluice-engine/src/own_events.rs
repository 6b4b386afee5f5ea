//! Sluice's own events on its bus: a run succeeded, failed or was
//! cancelled, a step's attempt failed, a message was dead-lettered.
//!
//! They go through [`Engine::put_events`] like any published event, so rules
//! in `sluice.yaml` match them with the same patterns and deliver them to the
//! same targets (functions, pipelines, queues, topics). Their shape follows
//! EventBridge: `source` `sluice.runs` or `sluice.queues`, a `detail-type`
//! such as `Run Failed`, and a `detail` with the ids, the target, the error
//! and links to the API.
//!
//! # The loop guard
//!
//! A rule that sends `Run Failed` to a function that fails would otherwise
//! cascade forever: each failure is an event that matches the rule again.
//! Every Sluice event therefore carries `detail.depth`: 0 for a run started
//! by anything else, and a run started by a rule from a Sluice event of depth
//! `d` has depth `d + 1` (recorded in its trigger, `rule:NAME?depth=N`).
//! Runs of depth [`MAX_EVENT_DEPTH`] publish no events of their own (a log
//! note says so), so a chain ends after at most that many generations.
//!
//! Sluice's own events are recorded in the event log only when a rule
//! matches them: most runs have no rule listening, and recording every run's
//! end would double the writes of each run.
//!
//! # Announcing an end exactly when it happens
//!
//! The events of a run's end (`Run Succeeded`, `Run Failed` with `Message
//! Dead-Lettered`) are recorded by the store in the transaction that
//! settles the run, and routed after it commits: a crash in between leaves
//! them recorded and unrouted, and the bus's recovery routes them. A run
//! that is retried instead announces nothing. Events of other moments
//! (`Step Failed`, `Run Cancelled`) are published as they happen.

use crate::engine::Engine;
use serde_json::{json, Value};
use sluice_core::time::now_ms;
use sluice_store::{NewEvent, RunRecord};

/// Generations of runs started by Sluice's own events after which no more
/// are published.
pub const MAX_EVENT_DEPTH: u64 = 3;

/// The `source` of run and step events.
pub const RUNS_SOURCE: &str = "sluice.runs";
/// The `source` of queue events.
pub const QUEUES_SOURCE: &str = "sluice.queues";

/// The depth of a run from its trigger (`rule:NAME?depth=N`; 0 otherwise).
pub fn depth_of(trigger: &str) -> u64 {
    trigger
        .rsplit_once("?depth=")
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

/// The trigger of a run started by `route` from an event: the route, plus
/// the depth when the event is one of Sluice's own.
pub(crate) fn trigger_for(route: &str, event_source: &str, detail: &Value) -> String {
    if !event_source.starts_with("sluice.") {
        return route.to_string();
    }
    let depth = detail["depth"].as_u64().unwrap_or(0) + 1;
    format!("{route}?depth={depth}")
}

fn links(run_id: &str) -> Value {
    json!({
        "run": format!("/v1/runs/{run_id}"),
        "logs": format!("/v1/runs/{run_id}/logs"),
        "events": format!("/v1/runs/{run_id}/events"),
        "ws": format!("/v1/runs/{run_id}/ws"),
    })
}

/// The detail every run event shares.
fn run_detail(run: &RunRecord, status: &str, error: Option<&str>) -> Value {
    let finished_at = now_ms();
    let mut detail = json!({
        "run_id": run.id,
        "kind": run.kind,
        "target": run.target,
        "status": status,
        "error": error,
        "trigger": run.trigger,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": finished_at,
        "duration_ms": run.started_at.map(|s| finished_at - s),
        "depth": depth_of(&run.trigger),
        "links": links(&run.id),
    });
    // `"pipeline": NAME` or `"function": NAME`, for patterns that name one.
    detail[run.kind.as_str()] = json!(run.target);
    detail
}

impl Engine {
    /// Publishes one of Sluice's own events if a rule matches it. Failures
    /// are logged, never raised: the work it describes is already settled.
    async fn announce(&self, source: &str, detail_type: &str, detail: Value) {
        let Some(event) = self.own_event(source, detail_type, detail) else {
            return;
        };
        if let Err(err) = self.put_events(vec![event]).await {
            tracing::error!(source, detail_type, error = %err, "could not publish Sluice's own event");
        }
    }

    /// One of Sluice's own events, if a rule could match it and the loop
    /// guard lets it out.
    fn own_event(&self, source: &str, detail_type: &str, detail: Value) -> Option<NewEvent> {
        let depth = detail["depth"].as_u64().unwrap_or(0);
        if depth >= MAX_EVENT_DEPTH {
            tracing::warn!(
                source,
                detail_type,
                depth,
                "event not published: runs started by Sluice's own events stop publishing at depth {MAX_EVENT_DEPTH}"
            );
            return None;
        }
        // The event as rules will see it (every envelope field), so a rule
        // on `time`, `region` or `account` is not missed by the probe.
        let probe = crate::bus::envelope(&sluice_store::EventRecord {
            seq: 0,
            id: "evt_probe".into(),
            at: now_ms(),
            source: source.to_string(),
            detail_type: detail_type.to_string(),
            detail: detail.clone(),
        });
        if self.plan().routes.matching(&probe).is_empty() {
            return None;
        }
        Some(NewEvent {
            source: source.to_string(),
            detail_type: detail_type.to_string(),
            detail,
        })
    }

    /// `Run Succeeded`, `Run Failed` or `Run Cancelled`, if a rule listens.
    pub(crate) fn run_end_event(
        &self,
        run: &RunRecord,
        status: &str,
        error: Option<&str>,
    ) -> Option<NewEvent> {
        let detail_type = match status {
            "succeeded" => "Run Succeeded",
            "cancelled" => "Run Cancelled",
            _ => "Run Failed",
        };
        self.own_event(RUNS_SOURCE, detail_type, run_detail(run, status, error))
    }

    /// `Run Cancelled`, published at once (the cancel is already committed).
    pub(crate) async fn announce_cancelled(&self, run: &RunRecord) {
        if let Some(event) = self.run_end_event(run, "cancelled", Some("cancelled")) {
            if let Err(err) = self.put_events(vec![event]).await {
                tracing::error!(error = %err, "could not publish Sluice's own event");
            }
        }
    }

    /// The events of a run failing for good, `Run Failed` (with the error as
    /// the store will record it) and `Message Dead-Lettered`, to be recorded
    /// with the settlement in case it dead-letters the message.
    pub(crate) fn dead_letter_events(
        &self,
        run: &RunRecord,
        queue: &str,
        dead_letter_queue: &str,
        receipt: &sluice_store::Receipt,
        error: &str,
    ) -> Vec<NewEvent> {
        let stored =
            sluice_store::dead_lettered_update(error, dead_letter_queue, receipt.receive_count);
        let final_error = stored.error.as_deref().unwrap_or(error);
        let failed = self.run_end_event(run, "failed", Some(final_error));
        let detail = json!({
            "queue": queue,
            "dead_letter_queue": dead_letter_queue,
            "message_id": receipt.message_id,
            "run_id": run.id,
            "target": run.target,
            "error": error,
            "depth": depth_of(&run.trigger),
            "links": links(&run.id),
            "redrive": format!("sluice dlq redrive {queue}"),
        });
        let dead = self.own_event(QUEUES_SOURCE, "Message Dead-Lettered", detail);
        failed.into_iter().chain(dead).collect()
    }

    /// Routes events the store recorded with a settlement. A failure is
    /// left to the bus's recovery, which routes unrouted events.
    pub(crate) async fn route_recorded(&self, seqs: &[i64]) {
        for seq in seqs {
            if let Err(err) = self.route_recorded_one(*seq).await {
                tracing::warn!(seq, error = %err, "could not route a run's end event now; it will be routed by recovery");
            }
        }
    }

    /// `Step Failed`: one attempt of a step failed (the run may still retry).
    pub(crate) async fn announce_step_failed(
        &self,
        run: &RunRecord,
        step: &str,
        attempt_id: &str,
        error: &str,
    ) {
        let mut detail = run_detail(run, "running", Some(error));
        detail["step"] = json!(step);
        detail["attempt_id"] = json!(attempt_id);
        detail["status"] = json!("failed");
        self.announce(RUNS_SOURCE, "Step Failed", detail).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_carried_in_the_trigger_of_runs_started_by_sluice_events() {
        assert_eq!(depth_of("http:submit"), 0);
        assert_eq!(depth_of("rule:alerts"), 0);
        assert_eq!(
            trigger_for("rule:alerts", "shop", &json!({ "depth": 5 })),
            "rule:alerts"
        );
        let first = trigger_for("rule:alerts", "sluice.runs", &json!({ "depth": 0 }));
        assert_eq!(first, "rule:alerts?depth=1");
        assert_eq!(depth_of(&first), 1);
        let second = trigger_for(
            "rule:alerts",
            "sluice.runs",
            &json!({ "depth": depth_of(&first) }),
        );
        assert_eq!(depth_of(&second), 2);
    }
}
