//! Checks of runs: atomic submission with deduplication, status changes and listing.

use super::support::*;
use super::Harness;
use crate::{status_update, NewMessage, NewRun, RunFilter, RunUpdate};
use serde_json::json;
use sluice_core::{RunKind, RunStatus};

/// A run of `target` with id `id`.
pub(crate) fn new_run(id: &str, target: &str) -> NewRun {
    NewRun {
        id: id.to_string(),
        kind: RunKind::Function,
        target: target.to_string(),
        input: json!({ "run": id }),
        trigger: "invoke".to_string(),
    }
}

/// Submits `run` on queue `jobs` (defining it first if needed).
pub(crate) async fn submit(h: &Harness, run: &NewRun) -> crate::Submitted {
    if h.store.queue_def("jobs").await.is_err() {
        define(h, queue("jobs")).await;
    }
    h.store
        .submit_run(run, &message("jobs", json!({ "run": run.id })))
        .await
        .expect("submit_run should succeed")
}

/// `submit_run` creates a queued run and the message that executes it.
pub async fn submit_run_creates_run_and_message_together(h: Harness) {
    let submitted = submit(&h, &new_run("run_1", "resize")).await;
    assert_eq!(submitted.run_id, "run_1");
    assert!(!submitted.duplicate);
    let run = h.store.get_run("run_1").await.unwrap();
    assert_eq!(run.status, RunStatus::Queued, "a submitted run is queued");
    assert_eq!(
        (run.kind, run.target.as_str(), run.trigger.as_str()),
        (RunKind::Function, "resize", "invoke")
    );
    assert_eq!(run.input, json!({ "run": "run_1" }));
    assert_eq!(run.created_at, h.now());
    assert_eq!(
        (
            run.started_at,
            run.finished_at,
            run.output.clone(),
            run.error.clone()
        ),
        (None, None, None, None)
    );
    let leases = lease(&h, "jobs", 10).await;
    assert_eq!(leases.len(), 1, "a submitted run has exactly one message");
    assert_eq!(leases[0].receipt.message_id, submitted.message_id);
    assert_eq!(
        leases[0].run_id.as_deref(),
        Some("run_1"),
        "the message names its run"
    );
    assert_eq!(leases[0].body, json!({ "run": "run_1" }));
    assert_not_found(
        h.store.get_run("run_missing").await,
        "get_run of an unknown run",
    );
}

/// With a dedup key seen within the window, nothing is created and the
/// existing run and message are returned.
pub async fn submit_run_with_duplicate_key_returns_existing_run(h: Harness) {
    define(&h, queue("jobs")).await;
    let keyed = NewMessage {
        dedup_key: Some("order-42".into()),
        ..message("jobs", json!({}))
    };
    let first = h
        .store
        .submit_run(&new_run("run_1", "f"), &keyed)
        .await
        .unwrap();
    let second = h
        .store
        .submit_run(&new_run("run_2", "f"), &keyed)
        .await
        .unwrap();
    assert!(
        second.duplicate,
        "the second submission must be reported as a duplicate"
    );
    assert_eq!(
        (second.run_id.as_str(), second.message_id.as_str()),
        ("run_1", first.message_id.as_str())
    );
    assert_not_found(
        h.store.get_run("run_2").await,
        "a duplicate submission must not create its run",
    );
    assert_eq!(
        h.store.list_messages("jobs", 0).await.unwrap().len(),
        1,
        "nor its message"
    );
}

/// A submission that fails creates neither the run nor the message.
pub async fn submit_run_creates_nothing_on_failure(h: Harness) {
    let missing_queue = h
        .store
        .submit_run(&new_run("run_1", "f"), &message("nowhere", json!({})))
        .await;
    assert_not_found(missing_queue, "submitting to an undefined queue");
    assert_not_found(
        h.store.get_run("run_1").await,
        "a failed submission must not leave a run behind",
    );
    submit(&h, &new_run("run_2", "f")).await;
    let again = h
        .store
        .submit_run(&new_run("run_2", "f"), &message("jobs", json!({})))
        .await;
    assert_conflict(again, "submitting a run id that exists");
    assert_eq!(
        h.store.list_messages("jobs", 0).await.unwrap().len(),
        1,
        "a refused run must not leave a message"
    );
}

/// `started_at` is set on the first move to running, `finished_at` on a
/// terminal status; output and error replace the stored ones when given.
pub async fn run_status_transitions_set_timestamps(h: Harness) {
    submit(&h, &new_run("run_1", "f")).await;
    let t1 = h.now() + 10;
    h.advance(10);
    let running = h
        .store
        .update_run("run_1", &status_update(RunStatus::Running))
        .await
        .unwrap();
    assert_eq!(
        (running.status, running.started_at, running.finished_at),
        (RunStatus::Running, Some(t1), None)
    );
    h.advance(10);
    let update = RunUpdate {
        status: RunStatus::Retrying,
        output: None,
        error: Some("flaky".into()),
    };
    let retrying = h.store.update_run("run_1", &update).await.unwrap();
    assert_eq!(retrying.error.as_deref(), Some("flaky"));
    h.advance(10);
    let again = h
        .store
        .update_run("run_1", &status_update(RunStatus::Running))
        .await
        .unwrap();
    assert_eq!(
        again.started_at,
        Some(t1),
        "started_at is kept from the first move to running"
    );
    assert_eq!(
        again.error.as_deref(),
        Some("flaky"),
        "an error is kept when not given"
    );
    h.advance(10);
    let t4 = h.now();
    let done = RunUpdate {
        status: RunStatus::Succeeded,
        output: Some(json!({ "ok": true })),
        error: None,
    };
    let done = h.store.update_run("run_1", &done).await.unwrap();
    assert_eq!(
        (done.status, done.finished_at),
        (RunStatus::Succeeded, Some(t4))
    );
    assert_eq!(done.output, Some(json!({ "ok": true })));
    assert_eq!(
        h.store.get_run("run_1").await.unwrap(),
        done,
        "update_run returns the stored record"
    );
    assert_not_found(
        h.store
            .update_run("nope", &status_update(RunStatus::Running))
            .await,
        "updating an unknown run",
    );
}

/// A terminal run does not change status except through a rerun; repeating
/// the same terminal status is accepted and keeps `finished_at`.
pub async fn terminal_run_status_is_final(h: Harness) {
    submit(&h, &new_run("run_1", "f")).await;
    let cancelled = h
        .store
        .update_run("run_1", &status_update(RunStatus::Cancelled))
        .await
        .unwrap();
    h.advance(100);
    assert_conflict(
        h.store
            .update_run("run_1", &status_update(RunStatus::Succeeded))
            .await,
        "moving a cancelled run to succeeded",
    );
    assert_conflict(
        h.store
            .update_run("run_1", &status_update(RunStatus::Running))
            .await,
        "restarting a cancelled run",
    );
    let repeated = h
        .store
        .update_run("run_1", &status_update(RunStatus::Cancelled))
        .await
        .unwrap();
    assert_eq!(
        repeated.finished_at, cancelled.finished_at,
        "repeating a terminal status keeps finished_at"
    );
}

/// `list_runs` returns newest first, filters by status and target, and pages with `before`.
pub async fn list_runs_filters_and_pages_newest_first(h: Harness) {
    for (i, target) in ["a", "b", "a", "b", "a"].iter().enumerate() {
        submit(&h, &new_run(&format!("run_{i}"), target)).await;
    }
    h.store
        .update_run("run_1", &status_update(RunStatus::Running))
        .await
        .unwrap();
    h.store
        .update_run("run_4", &status_update(RunStatus::Running))
        .await
        .unwrap();
    let ids = |runs: Vec<crate::RunRecord>| runs.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let all = ids(h.store.list_runs(&RunFilter::default()).await.unwrap());
    assert_eq!(
        all,
        ["run_4", "run_3", "run_2", "run_1", "run_0"],
        "newest first, limit 0 lists all"
    );
    let filter = RunFilter {
        target: Some("a".into()),
        ..RunFilter::default()
    };
    assert_eq!(
        ids(h.store.list_runs(&filter).await.unwrap()),
        ["run_4", "run_2", "run_0"]
    );
    let filter = RunFilter {
        status: Some(RunStatus::Running),
        ..RunFilter::default()
    };
    assert_eq!(
        ids(h.store.list_runs(&filter).await.unwrap()),
        ["run_4", "run_1"]
    );
    let filter = RunFilter {
        status: Some(RunStatus::Queued),
        target: Some("a".into()),
        ..RunFilter::default()
    };
    assert_eq!(
        ids(h.store.list_runs(&filter).await.unwrap()),
        ["run_2", "run_0"]
    );
    let page1 = ids(h
        .store
        .list_runs(&RunFilter {
            limit: 2,
            ..RunFilter::default()
        })
        .await
        .unwrap());
    assert_eq!(page1, ["run_4", "run_3"]);
    let page2 = RunFilter {
        limit: 2,
        before: Some("run_3".into()),
        ..RunFilter::default()
    };
    assert_eq!(
        ids(h.store.list_runs(&page2).await.unwrap()),
        ["run_2", "run_1"],
        "before pages past a run id"
    );
    let last = RunFilter {
        limit: 2,
        before: Some("run_1".into()),
        ..RunFilter::default()
    };
    assert_eq!(ids(h.store.list_runs(&last).await.unwrap()), ["run_0"]);
}

/// Redriving a dead-lettered message puts the run it executes back to `queued`
/// so that its next delivery runs it again.
pub async fn redrive_requeues_the_runs_of_redriven_messages(h: Harness) {
    let mut jobs = queue("jobs");
    jobs.max_receive_count = 1;
    jobs.dead_letter_queue = Some("jobs-dlq".to_string());
    define(&h, queue("jobs-dlq")).await;
    define(&h, jobs).await;
    submit(&h, &new_run("run_1", "resize")).await;
    let leased = lease(&h, "jobs", 1).await;
    let failed = RunUpdate {
        status: RunStatus::Failed,
        output: None,
        error: Some("boom".into()),
    };
    h.store.update_run("run_1", &failed).await.unwrap();
    h.store.fail(&leased[0].receipt, "boom", 0).await.unwrap();
    assert_eq!(
        h.store.get_run("run_1").await.unwrap().status,
        RunStatus::Failed
    );

    assert_eq!(h.store.redrive("jobs-dlq", 10).await.unwrap(), 1);
    let run = h.store.get_run("run_1").await.unwrap();
    assert_eq!(
        run.status,
        RunStatus::Queued,
        "a redriven run is queued again"
    );
    assert_eq!(run.finished_at, None);
    let again = lease(&h, "jobs", 1).await;
    assert_eq!(again[0].run_id.as_deref(), Some("run_1"));
}
