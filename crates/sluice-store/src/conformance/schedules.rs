//! Checks of schedule state: stored next fire times, and firing exactly once.

use super::runs::new_run;
use super::support::*;
use super::Harness;
use crate::{Firing, RunFilter, ScheduleState};
use serde_json::json;

fn state(name: &str, next: i64) -> ScheduleState {
    ScheduleState {
        name: name.to_string(),
        expression: "rate(1 hour)".to_string(),
        timezone: "UTC".to_string(),
        next_fire_at: Some(next),
        last_fired_at: None,
        last_run_id: None,
    }
}

/// States are stored, replaced, and listed by name.
pub async fn schedule_states_are_stored_and_replaced(h: Harness) {
    h.store
        .put_schedule_state(&state("nightly", 2_000))
        .await
        .unwrap();
    h.store
        .put_schedule_state(&state("hourly", 1_000))
        .await
        .unwrap();
    h.store
        .put_schedule_state(&ScheduleState {
            expression: "rate(2 hours)".into(),
            ..state("hourly", 5_000)
        })
        .await
        .unwrap();
    let states = h.store.schedule_states().await.unwrap();
    let names: Vec<&str> = states.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["hourly", "nightly"]);
    assert_eq!(states[0].expression, "rate(2 hours)");
    assert_eq!(states[0].next_fire_at, Some(5_000));
}

/// A firing submits its run and advances the schedule once; a second firing
/// of the same due time (another process) does nothing.
pub async fn a_schedule_fires_once_per_due_time(h: Harness) {
    define(&h, queue("jobs")).await;
    h.store
        .put_schedule_state(&state("hourly", 1_000))
        .await
        .unwrap();
    let firing = |id: &str| Firing::Run {
        run: new_run(id, "report"),
        message: message("jobs", json!(null)),
    };
    assert!(h
        .store
        .fire_schedule("hourly", 1_000, Some(2_000), &firing("run_a"))
        .await
        .unwrap());
    assert!(
        !h.store
            .fire_schedule("hourly", 1_000, Some(2_000), &firing("run_b"))
            .await
            .unwrap(),
        "already fired"
    );
    let runs = h
        .store
        .list_runs(&RunFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(runs.len(), 1, "one run for one due time");
    assert_eq!(runs[0].id, "run_a");
    assert_eq!(lease(&h, "jobs", 10).await.len(), 1, "with its message");
    let now = &h.store.schedule_states().await.unwrap()[0];
    assert_eq!(
        (
            now.next_fire_at,
            now.last_fired_at,
            now.last_run_id.as_deref()
        ),
        (Some(2_000), Some(1_000), Some("run_a"))
    );
}

/// A skipped firing moves the time on and keeps the last run; a plain
/// message firing enqueues it; a one-time schedule ends with no next time.
pub async fn skipped_and_message_firings_advance_the_schedule(h: Harness) {
    define(&h, queue("jobs")).await;
    h.store
        .put_schedule_state(&ScheduleState {
            last_run_id: Some("run_old".into()),
            ..state("hourly", 1_000)
        })
        .await
        .unwrap();
    assert!(h
        .store
        .fire_schedule("hourly", 1_000, Some(2_000), &Firing::Skip)
        .await
        .unwrap());
    assert!(h
        .store
        .fire_schedule(
            "hourly",
            2_000,
            None,
            &Firing::Message(message("jobs", json!({ "tick": 2 })))
        )
        .await
        .unwrap());
    let now = &h.store.schedule_states().await.unwrap()[0];
    assert_eq!(
        (
            now.next_fire_at,
            now.last_fired_at,
            now.last_run_id.as_deref()
        ),
        (None, Some(2_000), Some("run_old"))
    );
    assert_eq!(
        numbers_or_bodies(&lease(&h, "jobs", 10).await),
        [json!({ "tick": 2 })]
    );
    assert!(
        !h.store
            .fire_schedule("missing", 1, None, &Firing::Skip)
            .await
            .unwrap(),
        "unknown schedules never fire"
    );
}

/// A manual firing submits its run and becomes the last firing, leaving the
/// next fire time (and so the timed compare-and-set) alone.
pub async fn a_manual_firing_is_the_last_run_but_keeps_the_next_time(h: Harness) {
    define(&h, queue("jobs")).await;
    h.store
        .put_schedule_state(&state("hourly", 5_000))
        .await
        .unwrap();
    let firing = Firing::Run {
        run: new_run("run_manual", "report"),
        message: message("jobs", json!(null)),
    };
    let fired = h
        .store
        .fire_schedule_now("hourly", 1_234, &firing)
        .await
        .unwrap();
    assert_eq!(fired.run_id.as_deref(), Some("run_manual"));
    assert!(fired.message_id.is_some());
    assert_eq!(lease(&h, "jobs", 10).await.len(), 1, "with its message");
    let now = &h.store.schedule_states().await.unwrap()[0];
    assert_eq!(
        (
            now.next_fire_at,
            now.last_fired_at,
            now.last_run_id.as_deref()
        ),
        (Some(5_000), Some(1_234), Some("run_manual"))
    );
    assert!(
        h.store
            .fire_schedule("hourly", 5_000, Some(6_000), &Firing::Skip)
            .await
            .unwrap(),
        "the timed firing still finds its due time"
    );
    let unknown = h
        .store
        .fire_schedule_now("missing", 1, &Firing::Skip)
        .await
        .unwrap_err();
    assert!(
        matches!(
            unknown,
            crate::StoreError::NotFound {
                kind: "schedule",
                ..
            }
        ),
        "{unknown:?}"
    );
}

fn numbers_or_bodies(leases: &[crate::Lease]) -> Vec<serde_json::Value> {
    leases.iter().map(|l| l.body.clone()).collect()
}
