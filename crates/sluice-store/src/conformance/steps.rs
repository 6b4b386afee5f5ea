//! Checks of steps and attempts: numbering, outcome propagation, rerun and
//! recovery of attempts orphaned by a crash.

use super::runs::{new_run, submit};
use super::support::*;
use super::Harness;
use crate::{status_update, AttemptOutcome, AttemptStart, NewStep, StepRecord};
use serde_json::{json, Value};
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

fn start(worker: &str) -> AttemptStart {
    AttemptStart {
        worker: worker.to_string(),
        input: Some(json!({ "in": 1 })),
    }
}

fn outcome(status: AttemptStatus, output: Option<Value>, error: Option<&str>) -> AttemptOutcome {
    AttemptOutcome {
        status,
        output,
        error: error.map(str::to_string),
        exit_code: Some(0),
    }
}

fn step<'a>(all: &'a [StepRecord], name: &str) -> &'a StepRecord {
    all.iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("step {name} missing from {all:?}"))
}

/// Runs `run_1` with steps `a` (succeeds) and `b` (fails), then marks it failed.
async fn failed_two_step_run(h: &Harness) {
    submit(h, &new_run("run_1", "pipe")).await;
    h.store
        .ensure_steps("run_1", &steps(&["a", "b"]))
        .await
        .unwrap();
    let a = h
        .store
        .start_attempt("run_1", "a", &start("w"))
        .await
        .unwrap();
    h.store
        .finish_attempt(
            &a.id,
            &outcome(AttemptStatus::Succeeded, Some(json!("A")), None),
            &[],
        )
        .await
        .unwrap();
    let b = h
        .store
        .start_attempt("run_1", "b", &start("w"))
        .await
        .unwrap();
    h.store
        .finish_attempt(
            &b.id,
            &outcome(AttemptStatus::Failed, None, Some("bad")),
            &[],
        )
        .await
        .unwrap();
    h.store
        .update_run("run_1", &status_update(RunStatus::Failed))
        .await
        .unwrap();
    ack_all(h, &lease(h, "jobs", 10).await).await;
}

/// Attempts are numbered per step from 1; each outcome sets its step's status,
/// output and error.
pub async fn attempts_are_numbered_and_set_their_step(h: Harness) {
    submit(&h, &new_run("run_1", "pipe")).await;
    h.store
        .ensure_steps("run_1", &steps(&["build", "test"]))
        .await
        .unwrap();
    let t0 = h.now();
    let first = h
        .store
        .start_attempt("run_1", "build", &start("w1"))
        .await
        .unwrap();
    assert_eq!(
        (first.number, first.status, first.started_at),
        (1, AttemptStatus::Running, t0)
    );
    assert_eq!(
        (first.worker.as_str(), first.input.clone()),
        ("w1", Some(json!({ "in": 1 })))
    );
    let running = h.store.run_steps("run_1").await.unwrap();
    assert_eq!(
        step(&running, "build").status,
        StepStatus::Running,
        "starting an attempt runs its step"
    );
    h.advance(5);
    let failed = outcome(AttemptStatus::Failed, None, Some("compile error"));
    h.store
        .finish_attempt(&first.id, &failed, &[])
        .await
        .unwrap();
    let after_fail = h.store.run_steps("run_1").await.unwrap();
    let build = step(&after_fail, "build");
    assert_eq!(
        (build.status, build.error.as_deref()),
        (StepStatus::Failed, Some("compile error"))
    );
    assert_conflict(
        h.store.finish_attempt(&first.id, &failed, &[]).await,
        "finishing an attempt twice",
    );
    let second = h
        .store
        .start_attempt("run_1", "build", &start("w2"))
        .await
        .unwrap();
    assert_eq!(second.number, 2, "attempt numbers continue per step");
    let other = h
        .store
        .start_attempt("run_1", "test", &start("w2"))
        .await
        .unwrap();
    assert_eq!(other.number, 1, "each step numbers its own attempts");
    h.advance(5);
    let ok = outcome(
        AttemptStatus::Succeeded,
        Some(json!({ "artifact": "x" })),
        None,
    );
    h.store.finish_attempt(&second.id, &ok, &[]).await.unwrap();
    let done = h.store.run_steps("run_1").await.unwrap();
    assert_eq!(
        done.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["build", "test"],
        "steps by position"
    );
    let build = step(&done, "build");
    assert_eq!(
        (build.status, build.error.clone()),
        (StepStatus::Succeeded, None),
        "success clears the error"
    );
    assert_eq!(build.output, Some(json!({ "artifact": "x" })));
    assert_eq!(
        (build.started_at, build.finished_at),
        (Some(t0), Some(t0 + 10))
    );
    assert_eq!(
        build.attempts.iter().map(|a| a.number).collect::<Vec<_>>(),
        [1, 2],
        "attempts in order"
    );
    assert_eq!(build.attempts[0].status, AttemptStatus::Failed);
    assert_eq!(build.attempts[1].finished_at, Some(t0 + 10));
    assert_not_found(
        h.store.start_attempt("run_1", "deploy", &start("w")).await,
        "an undeclared step",
    );
    assert_not_found(
        h.store.finish_attempt("att_missing", &ok, &[]).await,
        "an unknown attempt",
    );
}

/// Declaring steps twice keeps the existing ones as they are.
pub async fn ensure_steps_is_idempotent(h: Harness) {
    submit(&h, &new_run("run_1", "pipe")).await;
    h.store
        .ensure_steps("run_1", &steps(&["a", "b"]))
        .await
        .unwrap();
    let a = h
        .store
        .start_attempt("run_1", "a", &start("w"))
        .await
        .unwrap();
    h.store
        .finish_attempt(
            &a.id,
            &outcome(AttemptStatus::Succeeded, Some(json!(1)), None),
            &[],
        )
        .await
        .unwrap();
    h.store
        .ensure_steps("run_1", &steps(&["b", "a", "c"]))
        .await
        .unwrap();
    let all = h.store.run_steps("run_1").await.unwrap();
    assert_eq!(
        all.iter()
            .map(|s| (s.name.as_str(), s.position))
            .collect::<Vec<_>>(),
        [("a", 0), ("b", 1), ("c", 2)]
    );
    assert_eq!(
        step(&all, "a").status,
        StepStatus::Succeeded,
        "an existing step keeps its state"
    );
    assert_not_found(
        h.store.ensure_steps("run_missing", &steps(&["a"])).await,
        "steps of an unknown run",
    );
}

/// A rerun without named steps resets failed and pending steps, keeps the
/// results of succeeded ones, requeues the run and enqueues its message.
pub async fn rerun_resets_failed_steps_and_keeps_succeeded_ones(h: Harness) {
    failed_two_step_run(&h).await;
    let rerun = h
        .store
        .rerun("run_1", &[], &message("jobs", json!({ "rerun": true })))
        .await
        .unwrap();
    assert_eq!(
        (rerun.status, rerun.finished_at, rerun.error.clone()),
        (RunStatus::Queued, None, None)
    );
    let all = h.store.run_steps("run_1").await.unwrap();
    let (a, b) = (step(&all, "a"), step(&all, "b"));
    assert_eq!(
        (a.status, a.output.clone()),
        (StepStatus::Succeeded, Some(json!("A"))),
        "succeeded step kept"
    );
    assert_eq!(
        (b.status, b.error.clone(), b.output.clone()),
        (StepStatus::Pending, None, None),
        "failed step reset"
    );
    assert_eq!(b.attempts.len(), 1, "a rerun keeps the attempt history");
    let leases = lease(&h, "jobs", 10).await;
    assert_eq!(leases.len(), 1, "a rerun enqueues one message");
    assert_eq!(leases[0].run_id.as_deref(), Some("run_1"));
    assert_eq!(leases[0].body, json!({ "rerun": true }));
    let next = h
        .store
        .start_attempt("run_1", "b", &start("w"))
        .await
        .unwrap();
    assert_eq!(next.number, 2, "attempt numbers continue after a rerun");
}

/// Named steps are reset even if they succeeded; a run that is not finished
/// cannot be rerun, and unknown steps are refused without changing anything.
pub async fn rerun_of_named_step_and_of_unfinished_run(h: Harness) {
    failed_two_step_run(&h).await;
    let missing = h
        .store
        .rerun("run_1", &["zzz".to_string()], &message("jobs", json!({})))
        .await;
    assert_not_found(missing, "rerunning an unknown step");
    assert_eq!(
        h.store.get_run("run_1").await.unwrap().status,
        RunStatus::Failed,
        "a refused rerun changes nothing"
    );
    assert!(
        lease(&h, "jobs", 10).await.is_empty(),
        "a refused rerun enqueues nothing"
    );
    h.store
        .rerun("run_1", &["a".to_string()], &message("jobs", json!({})))
        .await
        .unwrap();
    let all = h.store.run_steps("run_1").await.unwrap();
    assert_eq!(
        step(&all, "a").status,
        StepStatus::Pending,
        "a named succeeded step is reset"
    );
    assert_eq!(step(&all, "a").output, None);
    assert_eq!(
        step(&all, "b").status,
        StepStatus::Failed,
        "steps not named are kept"
    );
    let again = h
        .store
        .rerun("run_1", &[], &message("jobs", json!({})))
        .await;
    assert_conflict(again, "rerunning a queued run");
    assert_eq!(
        lease(&h, "jobs", 10).await.len(),
        1,
        "only the accepted rerun enqueued a message"
    );
    assert_not_found(
        h.store
            .rerun("run_missing", &[], &message("jobs", json!({})))
            .await,
        "rerun of unknown run",
    );
}

/// Running attempts of a run are marked abandoned and their steps pending.
pub async fn abandon_running_attempts_returns_steps_to_pending(h: Harness) {
    submit(&h, &new_run("run_1", "pipe")).await;
    h.store
        .ensure_steps("run_1", &steps(&["a", "b", "c"]))
        .await
        .unwrap();
    let a = h
        .store
        .start_attempt("run_1", "a", &start("w"))
        .await
        .unwrap();
    h.store
        .finish_attempt(&a.id, &outcome(AttemptStatus::Succeeded, None, None), &[])
        .await
        .unwrap();
    h.store
        .start_attempt("run_1", "b", &start("w"))
        .await
        .unwrap();
    h.store
        .start_attempt("run_1", "c", &start("w"))
        .await
        .unwrap();
    h.advance(7);
    assert_eq!(
        h.store.abandon_running_attempts("run_1").await.unwrap(),
        2,
        "both running attempts are abandoned"
    );
    let all = h.store.run_steps("run_1").await.unwrap();
    assert_eq!(
        step(&all, "a").status,
        StepStatus::Succeeded,
        "finished steps are untouched"
    );
    for name in ["b", "c"] {
        let s = step(&all, name);
        assert_eq!(
            s.status,
            StepStatus::Pending,
            "step {name} of an abandoned attempt is pending again"
        );
        assert_eq!(s.attempts[0].status, AttemptStatus::Abandoned);
        assert_eq!(s.attempts[0].finished_at, Some(h.now()));
    }
    assert_eq!(
        h.store.abandon_running_attempts("run_1").await.unwrap(),
        0,
        "nothing left to abandon"
    );
    let next = h
        .store
        .start_attempt("run_1", "b", &start("w"))
        .await
        .unwrap();
    assert_eq!(next.number, 2);
    assert_not_found(
        h.store.abandon_running_attempts("run_missing").await,
        "abandoning attempts of an unknown run",
    );
}
