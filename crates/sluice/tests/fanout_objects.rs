//! Fan-out over the objects under a bucket prefix, for any phase: listed when
//! the phase runs (so a new object is picked up by the next run), one step
//! per object, named by its key (qualified by the phase when a pipeline has
//! several fan-outs), and a rerun of one item redoes only that item even
//! after the run succeeded.

mod common;
mod extract_support;

use common::*;
use extract_support::{object_keys, upload_dir, upload_file, write_files};
use serde_json::json;

const PROJECT: &str = r#"
version: 1
buckets:
  inbound: {}
  archive: {}
functions:
  describe:
    run: cat
pipelines:
  sweep:
    retry: { max_attempts: 1 }
    phases:
      - name: describe
        function: describe
        fan_out: { over: { objects: { bucket: inbound, prefix: in/, suffix: .csv } } }
      - name: archive
        uses: move
        fan_out: { over: { objects: { bucket: inbound, prefix: in/, suffix: .csv } }, max_concurrency: 2 }
        with: { to_bucket: archive, to_prefix: done/ }
"#;

#[test]
fn every_object_under_the_prefix_is_an_item_of_any_phase() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let files = tmp.path().join("files");
    write_files(
        &files,
        &[("a.csv", b"1"), ("b.csv", b"22"), ("notes.txt", b"skip me")],
    );
    upload_dir(&server, &files, "s3://inbound/in/");

    let accepted = server.post("/v1/pipelines/sweep/runs", &json!({}));
    let run_id = accepted["run_id"].as_str().unwrap().to_string();
    let run = server.wait_run(&run_id);
    assert_eq!(run["status"], "succeeded", "{run}");
    let names: Vec<&str> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for expected in [
        "describe/a.csv",
        "describe/b.csv",
        "archive/a.csv",
        "archive/b.csv",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    assert!(
        !names.iter().any(|n| n.contains("notes.txt")),
        "the suffix filters"
    );
    let described = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "describe")
        .unwrap()["output"]
        .clone();
    assert_eq!(described[1]["key"], "in/b.csv");
    assert_eq!(described[1]["size"], 2);
    assert_eq!(described[1]["name"], "b.csv");
    assert_eq!(
        object_keys(&server, "archive"),
        ["done/in/a.csv", "done/in/b.csv"]
    );
    assert_eq!(object_keys(&server, "inbound"), ["in/notes.txt"]);

    // The next run sees what is there now: one new file.
    write_files(&files, &[("c.csv", b"333")]);
    upload_file(&server, &files.join("c.csv"), "s3://inbound/in/c.csv");
    let again = server.post("/v1/pipelines/sweep/runs", &json!({}));
    let again = server.wait_run(again["run_id"].as_str().unwrap());
    assert_eq!(again["status"], "succeeded");
    assert_eq!(
        again["steps"].as_array().unwrap().len(),
        4,
        "two phases, one item each"
    );

    // Rerunning one item of a finished run redoes it (and gathers its phase) only.
    let rerun = server.cli_json(&["rerun", &run_id, "--step", "describe/a.csv"]);
    assert_eq!(rerun["status"], "succeeded", "{rerun}");
    let run = server.get(&format!("/v1/runs/{run_id}"));
    let attempts = |name: &str| {
        run["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["attempts"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(attempts("describe/a.csv"), 2);
    assert_eq!(attempts("describe"), 2, "its phase gathered again");
    assert_eq!(attempts("describe/b.csv"), 1);
    assert_eq!(
        attempts("archive/a.csv"),
        1,
        "later steps keep their results"
    );
}
