//! Schedule triggers through the real binary: firing on time, firing on
//! demand, listing next fire times, and catching up (or not) after downtime.
//!
//! Schedules fire by the clock, so these tests wait for wall-clock times a
//! few seconds ahead; every wait is bounded and checks the API, never a
//! fixed sleep standing in for an event.

mod common;

use chrono::{Duration, Utc};
use common::*;
use serde_json::Value;
use std::time::Instant;

/// An `at(...)` expression `seconds` from now, in UTC.
fn at_in(seconds: i64) -> (String, chrono::DateTime<Utc>) {
    let when = Utc::now() + Duration::seconds(seconds);
    (format!("at({})", when.format("%Y-%m-%dT%H:%M:%S")), when)
}

fn project_yaml(tick: &str, missed_skip: &str) -> String {
    format!(
        r#"
version: 1
functions:
  echo:
    run: cat
triggers:
  tick:
    schedule: "{tick}"
    catch_up: once
    target: {{ function: echo }}
  missed:
    schedule: "{missed_skip}"
    catch_up: skip
    target: {{ function: echo }}
  nightly:
    schedule: cron(0 3 * * ? *)
    timezone: Europe/Paris
    target: {{ function: echo, input: {{ day: "$.detail.logical_date" }} }}
"#
    )
}

fn schedule(server: &Server, name: &str) -> Value {
    let all = server.get("/v1/schedules");
    all.as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no schedule {name}: {all}"))
}

/// Polls the schedule until `done` holds, for at most 20 s.
fn wait_schedule(server: &Server, name: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let s = schedule(server, name);
        if done(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "schedule {name} never reached the expected state: {s}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn a_schedule_fires_at_its_time_and_on_demand() {
    let tmp = tempfile::tempdir().unwrap();
    let (tick, when) = at_in(2);
    let (later, _) = at_in(3600);
    let dir = project(&tmp.path().join("p"), &project_yaml(&tick, &later), &[]);
    let server = Server::start(&dir, &tmp.path().join("data"));

    let nightly = schedule(&server, "nightly");
    let next = nightly["next_fire_at"].as_i64().unwrap();
    assert!(next > Utc::now().timestamp_millis(), "{nightly}");
    let hour_utc = chrono::DateTime::from_timestamp_millis(next)
        .unwrap()
        .format("%H:%M")
        .to_string();
    assert!(
        hour_utc == "01:00" || hour_utc == "02:00",
        "03:00 in Paris is 01:00 or 02:00 UTC, got {hour_utc}"
    );

    let fired = wait_schedule(&server, "tick", |s| s["last_run_id"].is_string());
    assert!(
        fired["next_fire_at"].is_null(),
        "a one-time schedule is done: {fired}"
    );
    let run = server.wait_run(fired["last_run_id"].as_str().unwrap());
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["trigger"], "schedule:tick");
    assert_eq!(run["output"]["detail-type"], "Scheduled Event");
    assert_eq!(
        run["output"]["detail"]["logical_date"],
        when.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    );

    let out = server.cli(&["--json", "trigger", "nightly"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["trigger"], "schedule:nightly:manual");
    assert!(
        run["output"]["day"].as_str().unwrap().ends_with('Z'),
        "the input template saw the event: {run}"
    );
    let listing = stdout(&server.cli(&["schedules"]));
    assert!(
        listing.contains("nightly") && listing.contains("Europe/Paris"),
        "{listing}"
    );
}

#[test]
fn after_downtime_catch_up_once_runs_once_and_skip_skips() {
    let tmp = tempfile::tempdir().unwrap();
    let (tick, when) = at_in(2);
    let dir = project(&tmp.path().join("p"), &project_yaml(&tick, &tick), &[]);
    let data = tmp.path().join("data");
    let grace = ["--schedule-grace", "1s"];
    let server = Server::start_with(&dir, &data, &[], &grace, std::process::Stdio::inherit());
    assert!(
        schedule(&server, "tick")["next_fire_at"].is_i64(),
        "registered before the downtime"
    );
    server.kill();
    // The downtime: stay down until both schedules are overdue by more than the grace.
    while Utc::now() < when + Duration::milliseconds(1500) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let server = Server::start_with(&dir, &data, &[], &grace, std::process::Stdio::inherit());
    let caught_up = wait_schedule(&server, "tick", |s| s["last_run_id"].is_string());
    assert_eq!(
        server.wait_run(caught_up["last_run_id"].as_str().unwrap())["status"],
        "succeeded"
    );
    let skipped = wait_schedule(&server, "missed", |s| s["next_fire_at"].is_null());
    assert!(
        skipped["last_run_id"].is_null(),
        "catch_up: skip started nothing: {skipped}"
    );
    let runs = server.get("/v1/runs?target=echo");
    assert_eq!(
        runs.as_array().unwrap().len(),
        1,
        "exactly one catch-up run: {runs}"
    );
}

/// Waits until the run has `status`; polls the API, at most 20 s.
fn wait_status(server: &Server, run_id: &str, status: &str) -> Value {
    let deadline = Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let run = server.get(&format!("/v1/runs/{run_id}"));
        if run["status"] == status {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "run {run_id} never became {status}: {run}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Three schedules with the same `at` time and one overlap policy each;
/// the handler blocks until the test creates the file `release`.
fn overlap_yaml(when: &str) -> String {
    let mut yaml = String::from("version: 1\nfunctions:\n");
    for policy in ["skip", "queue", "allow"] {
        yaml.push_str(&format!("  slow_{policy}:\n    run: sh slow.sh\n"));
    }
    yaml.push_str("triggers:\n");
    for policy in ["skip", "queue", "allow"] {
        yaml.push_str(&format!(
            "  {policy}:\n    schedule: \"{when}\"\n    overlap: {policy}\n    \
             target: {{ function: slow_{policy} }}\n"
        ));
    }
    yaml
}

const SLOW_SH: &str =
    "input=$(cat)\nwhile [ ! -e release ]; do sleep 0.05; done\necho \"$input\"\n";

/// A manual trigger is the schedule's last run, so when the clock fires
/// while it is still going: `skip` starts nothing, `queue` starts a run
/// only after it finished, `allow` runs alongside it.
#[test]
fn overlap_policies_differ_while_a_manual_run_is_going() {
    let tmp = tempfile::tempdir().unwrap();
    let (at, when) = at_in(6);
    let dir = project(
        &tmp.path().join("p"),
        &overlap_yaml(&at),
        &[("slow.sh", SLOW_SH)],
    );
    let server = Server::start(&dir, &tmp.path().join("data"));
    let mut manual = std::collections::HashMap::new();
    for policy in ["skip", "queue", "allow"] {
        let fired = server.post(&format!("/v1/schedules/{policy}/trigger"), &Value::Null);
        let run_id = fired["run_id"].as_str().expect("a run").to_string();
        wait_status(&server, &run_id, "running");
        let view = schedule(&server, policy);
        assert_eq!(
            view["last_run_id"],
            run_id.as_str(),
            "shown as last run: {view}"
        );
        assert!(view["next_fire_at"].is_i64(), "timetable kept: {view}");
        manual.insert(policy, run_id);
    }
    assert!(
        Utc::now() < when,
        "the manual runs started after the fire time; the test proves nothing"
    );

    // The clock fires all three (at most once each: one-time schedules).
    let fired: Vec<Value> = ["skip", "queue", "allow"]
        .iter()
        .map(|p| wait_schedule(&server, p, |s| s["next_fire_at"].is_null()))
        .collect();
    assert_eq!(
        fired[0]["last_run_id"],
        manual["skip"].as_str(),
        "skip started nothing: {}",
        fired[0]
    );
    let queued = fired[1]["last_run_id"].as_str().unwrap().to_string();
    let allowed = fired[2]["last_run_id"].as_str().unwrap().to_string();
    assert_ne!(queued, manual["queue"]);
    assert_ne!(allowed, manual["allow"]);
    // allow: both runs at once.
    wait_status(&server, &allowed, "running");
    assert_eq!(
        server.get(&format!("/v1/runs/{}", manual["allow"]))["status"],
        "running"
    );
    // queue: the timed run waits behind the manual one.
    assert_eq!(
        server.get(&format!("/v1/runs/{queued}"))["status"],
        "queued",
        "overlap: queue holds the second run"
    );

    std::fs::write(dir.join("release"), "").unwrap();
    let done = |id: &str| {
        let run = server.wait_run(id);
        assert_eq!(run["status"], "succeeded", "{run}");
        run
    };
    let (first, second) = (done(&manual["queue"]), done(&queued));
    assert!(
        second["started_at"].as_i64() >= first["finished_at"].as_i64(),
        "queued run started only after the first finished: {first} {second}"
    );
    let (first, second) = (done(&manual["allow"]), done(&allowed));
    assert!(
        second["started_at"].as_i64() < first["finished_at"].as_i64(),
        "allowed run overlapped the first: {first} {second}"
    );
    done(&manual["skip"]);
    let skip_runs = server.get("/v1/runs?target=slow_skip");
    assert_eq!(skip_runs.as_array().unwrap().len(), 1, "{skip_runs}");
    let listing = stdout(&server.cli(&["schedules"]));
    assert!(listing.contains(&manual["skip"][..12]), "{listing}");
}
