//! `sluice validate` and `sluice up` on bad project files: every problem at
//! once, each with file:line:column and the closest valid name.

mod common;

use common::*;
use std::process::Command;

const BAD: &str = "version: 1
functions:
  resize:
    run: python3 handler.py
    timout: 30s
queues:
  jobs:
    target: { function: reszie }
pipelines:
  etl:
    phases:
      - name: load
        uses: csv-lod
";

#[test]
fn validate_reports_every_problem_with_its_position_and_a_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), BAD, &[]);
    let out = Command::new(SLUICE)
        .arg("validate")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("sluice.yaml:5:5: functions.resize.timout: unknown field `timout`; did you mean `timeout`?"), "{err}");
    assert!(
        err.contains("sluice.yaml:8:25: queues.jobs.target.function")
            && err.contains("did you mean `resize`?"),
        "{err}"
    );
    assert!(
        err.contains("sluice.yaml:13:15: pipelines.etl.phases[0].uses")
            && err.contains("did you mean `csv-load`?"),
        "{err}"
    );
}

#[test]
fn up_refuses_an_invalid_project_before_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), BAD, &[]);
    let out = Command::new(SLUICE)
        .arg("up")
        .arg(&dir)
        .args(["--listen", "127.0.0.1:0", "--s3-listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("did you mean `timeout`?"));
    assert!(!stdout(&out).contains("ready:"));
}

#[test]
fn up_names_a_missing_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let yaml = "version: 1\nfunctions:\n  f:\n    run: cat\n    env:\n      TOKEN: ${env:SLUICE_TEST_SURELY_UNSET}\n";
    let dir = project(&tmp.path().join("p"), yaml, &[]);
    let out = Command::new(SLUICE)
        .arg("up")
        .arg(&dir)
        .args(["--listen", "127.0.0.1:0", "--s3-listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("function `f`: env `TOKEN`") && err.contains("SLUICE_TEST_SURELY_UNSET"),
        "{err}"
    );
}

#[test]
fn up_reports_a_corrupted_state_store_with_its_path() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), "version: 1\n", &[]);
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("state.db"),
        "this is not a database, it is a text file that got in the way",
    )
    .unwrap();
    let out = Command::new(SLUICE)
        .arg("up")
        .arg(&dir)
        .arg("--data-dir")
        .arg(&data)
        .args(["--listen", "127.0.0.1:0", "--s3-listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&data.join("state.db").display().to_string()),
        "{err}"
    );
}

#[test]
fn schema_command_prints_the_published_schema() {
    let out = Command::new(SLUICE).arg("schema").output().unwrap();
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let published = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../sluice-spec/sluice.schema.json"
    ))
    .unwrap();
    let published: serde_json::Value = serde_json::from_str(&published).unwrap();
    assert_eq!(
        printed, published,
        "the committed schema is the one the binary uses"
    );
    assert!(printed["properties"]["functions"].is_object());
}
