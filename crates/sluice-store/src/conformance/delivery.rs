//! Checks of the transactions that bracket a delivery: `begin_run`,
//! `settle_run`, and `finish_attempt` with its last log lines.

use super::runs::{new_run, submit};
use super::support::*;
use super::Harness;
use crate::{AttemptOutcome, AttemptStart, NewLogLine, NewStep, Settled, Settlement, StoreError};
use serde_json::json;
use sluice_core::{AttemptStatus, RunStatus, StepStatus};

fn steps(names: &[&str]) -> Vec<NewStep> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| NewStep {
            name: n.to_string(),
            position: i as u32,
        })
        .collect()
}

/// `begin_run` declares the steps, makes the run `running`, and abandons
/// attempts a dead delivery left running.
pub async fn begin_run_starts_the_run_and_abandons_stale_attempts(h: Harness) {
    submit(&h, &new_run("run_1", "etl")).await;
    let (run, declared) = h
        .store
        .begin_run("run_1", &steps(&["extract", "load"]))
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.started_at, Some(h.now()));
    let names: Vec<&str> = declared.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["extract", "load"]);

    let stale = h
        .store
        .start_attempt("run_1", "extract", &AttemptStart::default())
        .await
        .unwrap();
    let (_, after) = h
        .store
        .begin_run("run_1", &steps(&["extract", "load"]))
        .await
        .unwrap();
    assert_eq!(
        after[0].status,
        StepStatus::Pending,
        "the stale attempt's step is pending again"
    );
    assert_eq!(after[0].attempts[0].id, stale.id);
    assert_eq!(after[0].attempts[0].status, AttemptStatus::Abandoned);
}

/// A terminal run is returned as it is: a redelivered message of a finished
/// run must not reopen it.
pub async fn begin_run_leaves_a_finished_run_alone(h: Harness) {
    submit(&h, &new_run("run_1", "f")).await;
    let leased = lease(&h, "jobs", 1).await;
    h.store.begin_run("run_1", &steps(&["f"])).await.unwrap();
    let done = Settlement::Succeeded { output: json!(7) };
    assert_eq!(
        h.store
            .settle_run("run_1", &leased[0].receipt, &done, &[])
            .await
            .unwrap(),
        (Settled::Succeeded, vec![])
    );
    let (run, _) = h.store.begin_run("run_1", &steps(&["f"])).await.unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.output, Some(json!(7)));
}

/// Success acks the message and finishes the run together.
pub async fn settle_success_acks_and_finishes_the_run(h: Harness) {
    submit(&h, &new_run("run_1", "f")).await;
    let leased = lease(&h, "jobs", 1).await;
    h.store.begin_run("run_1", &steps(&["f"])).await.unwrap();
    let done = Settlement::Succeeded {
        output: json!({ "ok": true }),
    };
    let (_, events) = h
        .store
        .settle_run(
            "run_1",
            &leased[0].receipt,
            &done,
            &[run_end("Run Succeeded")],
        )
        .await
        .unwrap();
    let run = h.store.get_run("run_1").await.unwrap();
    assert_eq!(
        (run.status, run.output),
        (RunStatus::Succeeded, Some(json!({ "ok": true })))
    );
    let recorded = h.store.unrouted_events(h.now(), 0).await.unwrap();
    assert_eq!(
        recorded.iter().map(|e| e.seq).collect::<Vec<_>>(),
        events,
        "the end's event is recorded with it, to be routed"
    );
    assert_eq!(recorded[0].detail_type, "Run Succeeded");
    assert_eq!(run.finished_at, Some(h.now()));
    h.clock.advance(VISIBILITY_MS as i64 * 2);
    assert!(
        lease(&h, "jobs", 10).await.is_empty(),
        "the message is gone"
    );
}

/// Failure retries with the run `retrying`, then dead-letters with the run
/// `failed` and an error naming the dead-letter queue.
pub async fn settle_failure_retries_then_dead_letters(h: Harness) {
    submit(&h, &new_run("run_1", "f")).await;
    let failed = Settlement::Failed {
        error: "boom".into(),
        retry_delay_ms: 10,
    };
    for delivery in 1..=3 {
        let leased = lease(&h, "jobs", 1).await;
        assert_eq!(leased.len(), 1, "delivery {delivery}");
        h.store.begin_run("run_1", &steps(&["f"])).await.unwrap();
        let (settled, events) = h
            .store
            .settle_run(
                "run_1",
                &leased[0].receipt,
                &failed,
                &[run_end("Run Failed")],
            )
            .await
            .unwrap();
        let run = h.store.get_run("run_1").await.unwrap();
        let unrouted = h.store.unrouted_events(h.now(), 0).await.unwrap();
        if delivery < 3 {
            assert!(matches!(settled, Settled::Retrying { .. }), "{settled:?}");
            assert!(
                events.is_empty() && unrouted.is_empty(),
                "a retried run has not ended: nothing is announced"
            );
            assert_eq!(
                (run.status, run.error.as_deref()),
                (RunStatus::Retrying, Some("boom"))
            );
            h.clock.advance(10);
        } else {
            assert_eq!(
                settled,
                Settled::DeadLettered {
                    queue: "jobs-dlq".into()
                }
            );
            assert_eq!(run.status, RunStatus::Failed);
            assert!(run.error.unwrap().contains("`jobs-dlq`"));
            assert_eq!(unrouted.iter().map(|e| e.seq).collect::<Vec<_>>(), events);
            assert_eq!(events.len(), 1, "the dead-lettered end is announced");
        }
    }
}

/// With a stale receipt nothing changes: the run is not marked finished
/// while its message stays queued.
pub async fn settle_with_a_stale_receipt_changes_nothing(h: Harness) {
    submit(&h, &new_run("run_1", "f")).await;
    let first = lease(&h, "jobs", 1).await;
    h.store.begin_run("run_1", &steps(&["f"])).await.unwrap();
    h.clock.advance(VISIBILITY_MS as i64 + 1);
    let _second = lease(&h, "jobs", 1).await;
    let done = Settlement::Succeeded { output: json!(1) };
    let err = h
        .store
        .settle_run(
            "run_1",
            &first[0].receipt,
            &done,
            &[run_end("Run Succeeded")],
        )
        .await
        .unwrap_err();
    assert!(
        h.store
            .unrouted_events(h.now(), 0)
            .await
            .unwrap()
            .is_empty(),
        "a refused settlement records no event"
    );
    assert!(matches!(err, StoreError::LeaseLost { .. }), "{err:?}");
    assert_eq!(
        h.store.get_run("run_1").await.unwrap().status,
        RunStatus::Running
    );
}

/// The last log lines of an attempt are stored with its outcome.
pub async fn finish_attempt_stores_its_last_log_lines(h: Harness) {
    submit(&h, &new_run("run_1", "f")).await;
    h.store.begin_run("run_1", &steps(&["f"])).await.unwrap();
    let attempt = h
        .store
        .start_attempt("run_1", "f", &AttemptStart::default())
        .await
        .unwrap();
    let line = NewLogLine {
        run_id: "run_1".into(),
        step: Some("f".into()),
        attempt_id: Some(attempt.id.clone()),
        at: h.now(),
        stream: "stderr".into(),
        line: "last words".into(),
    };
    let ok = AttemptOutcome {
        status: AttemptStatus::Succeeded,
        output: Some(json!(1)),
        error: None,
        exit_code: Some(0),
    };
    h.store
        .finish_attempt(&attempt.id, &ok, &[line])
        .await
        .unwrap();
    let logs: Vec<_> = h
        .store
        .read_logs("run_1", 0, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.stream != crate::STATUS_STREAM)
        .collect();
    assert_eq!(logs.len(), 1, "besides status changes: {logs:?}");
    assert_eq!(logs[0].line, "last words");
    assert_eq!(logs[0].attempt_id.as_deref(), Some(attempt.id.as_str()));
}

/// An event announcing a run's end.
fn run_end(detail_type: &str) -> crate::NewEvent {
    crate::NewEvent {
        source: "sluice.runs".into(),
        detail_type: detail_type.into(),
        detail: json!({ "run_id": "run_1" }),
    }
}
