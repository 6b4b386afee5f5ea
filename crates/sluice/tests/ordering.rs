//! Ordered processing: concurrency 1 is strictly sequential in arrival order,
//! and FIFO groups keep each group's order, one message of a group at a time.

mod common;

use common::*;
use serde_json::json;

const PROJECT: &str = r#"
version: 1
functions:
  journal:
    run: sh journal.sh
    concurrency: 8
queues:
  strict:
    target: { function: journal }
    concurrency: 1
  grouped:
    target: { function: journal }
    concurrency: 4
    fifo: true
"#;

/// Writes `start ID` and `end ID` around a short pause.
const JOURNAL: &str = r#"
event=$(cat)
id=$(printf '%s' "$event" | sed -n 's/.*"id"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
echo "start $id" >> journal
sleep 0.02
echo "end $id" >> journal
echo '{}'
"#;

fn send_all(server: &Server, queue: &str, ids: &[(String, Option<&str>)]) -> Vec<String> {
    ids.iter()
        .map(|(id, group)| {
            let sent = server.post(
                &format!("/v1/queues/{queue}/messages"),
                &json!({ "body": { "id": id }, "group": group }),
            );
            sent["run_id"].as_str().unwrap().to_string()
        })
        .collect()
}

fn journal(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("journal"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn concurrency_one_processes_strictly_in_arrival_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[("journal.sh", JOURNAL)]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let ids: Vec<(String, Option<&str>)> = (0..12).map(|i| (format!("m{i}"), None)).collect();
    for run in send_all(&server, "strict", &ids) {
        assert_eq!(server.wait_run(&run)["status"], "succeeded");
    }
    let expected: Vec<String> = (0..12)
        .flat_map(|i| [format!("start m{i}"), format!("end m{i}")])
        .collect();
    assert_eq!(journal(&dir), expected);
}

#[test]
fn fifo_groups_keep_each_groups_order_one_at_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("p"), PROJECT, &[("journal.sh", JOURNAL)]);
    let server = Server::start(&dir, &tmp.path().join("data"));
    let ids: Vec<(String, Option<&str>)> = (0..10)
        .flat_map(|i| [(format!("a{i}"), Some("a")), (format!("b{i}"), Some("b"))])
        .collect();
    for run in send_all(&server, "grouped", &ids) {
        assert_eq!(server.wait_run(&run)["status"], "succeeded");
    }
    let lines = journal(&dir);
    for group in ["a", "b"] {
        let mine: Vec<&String> = lines
            .iter()
            .filter(|l| l.split(' ').nth(1).unwrap().starts_with(group))
            .collect();
        let expected: Vec<String> = (0..10)
            .flat_map(|i| [format!("start {group}{i}"), format!("end {group}{i}")])
            .collect();
        assert_eq!(
            mine,
            expected.iter().collect::<Vec<_>>(),
            "group {group} in order, one at a time"
        );
    }
}
