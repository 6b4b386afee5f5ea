//! Checks of log lines and the event log.

use super::runs::{new_run, submit};
use super::Harness;
use crate::{NewEvent, NewLogLine};
use serde_json::json;

fn line(run_id: &str, text: &str, at: i64) -> NewLogLine {
    NewLogLine {
        run_id: run_id.to_string(),
        step: Some("main".to_string()),
        attempt_id: Some("att_1".to_string()),
        at,
        stream: "stdout".to_string(),
        line: text.to_string(),
    }
}

/// Each run numbers its lines 1, 2, 3...; `after_seq` and `limit` page through them.
pub async fn logs_are_numbered_per_run_and_paged(h: Harness) {
    submit(&h, &new_run("run_1", "f")).await;
    submit(&h, &new_run("run_2", "f")).await;
    let at = h.now();
    let batch: Vec<NewLogLine> = vec![
        line("run_1", "one", at),
        line("run_2", "uno", at),
        line("run_1", "two", at),
        line("run_1", "three", at),
    ];
    h.store.append_logs(&batch).await.unwrap();
    h.store
        .append_logs(&[line("run_1", "four", at + 1), line("run_2", "dos", at + 1)])
        .await
        .unwrap();
    let all = h.store.read_logs("run_1", 0, 0).await.unwrap();
    let seqs: Vec<i64> = all.iter().map(|l| l.seq).collect();
    assert_eq!(
        seqs,
        [1, 2, 3, 4],
        "a run's lines are numbered densely in append order"
    );
    assert_eq!(
        all.iter().map(|l| l.line.as_str()).collect::<Vec<_>>(),
        ["one", "two", "three", "four"]
    );
    assert_eq!(
        all[0],
        crate::LogLine {
            seq: 1,
            run_id: "run_1".into(),
            step: Some("main".into()),
            attempt_id: Some("att_1".into()),
            at,
            stream: "stdout".into(),
            line: "one".into(),
            position: all[0].position,
        }
    );
    let other: Vec<String> = h
        .store
        .read_logs("run_2", 0, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect();
    assert_eq!(other, ["uno", "dos"], "runs do not share log lines");
    let page = h.store.read_logs("run_1", 1, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|l| l.seq).collect::<Vec<_>>(),
        [2, 3],
        "after_seq excludes, limit caps"
    );
    assert!(
        h.store.read_logs("run_1", 4, 10).await.unwrap().is_empty(),
        "nothing after the last line"
    );
    match h.store.append_logs(&[line("run_missing", "x", at)]).await {
        Err(crate::StoreError::NotFound { .. }) => {}
        other => panic!("appending logs to an unknown run: expected NotFound, got {other:?}"),
    }
}

/// Events get increasing sequence numbers and are read back in order after a cursor.
pub async fn events_are_appended_and_read_in_order(h: Harness) {
    assert!(h.store.read_events(0, 10).await.unwrap().is_empty());
    let mut seqs = Vec::new();
    for n in 0..3 {
        h.advance(1);
        let event = NewEvent {
            source: "runs".into(),
            detail_type: "run.finished".into(),
            detail: json!({ "n": n }),
        };
        seqs.push(h.store.append_event(&event).await.unwrap());
    }
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "event sequence numbers must increase: {seqs:?}"
    );
    let all = h.store.read_events(0, 0).await.unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs);
    assert_eq!(all[2].detail, json!({ "n": 2 }));
    assert_eq!(
        (all[2].source.as_str(), all[2].detail_type.as_str()),
        ("runs", "run.finished")
    );
    assert_eq!(
        all[2].at,
        h.now(),
        "events are stamped with the store's clock"
    );
    assert!(all[0].id != all[1].id, "events get distinct ids");
    let after_first = h.store.read_events(seqs[0], 1).await.unwrap();
    assert_eq!(
        after_first.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [seqs[1]],
        "after_seq and limit page"
    );
}

/// An event appended under a given id is recorded once, however often it
/// is sent, and says whether it was routed.
pub async fn an_event_with_an_id_is_recorded_once(h: Harness) {
    let event = NewEvent {
        source: "sluice.objects".into(),
        detail_type: "Object Created".into(),
        detail: json!({ "key": "a.csv" }),
    };
    let (seq, routed) = h
        .store
        .append_event_once("evt_obj_1", &event)
        .await
        .unwrap();
    assert!(!routed);
    let again = h
        .store
        .append_event_once("evt_obj_1", &event)
        .await
        .unwrap();
    assert_eq!(again, (seq, false), "the same event, not a second one");
    h.store.mark_event_routed(seq).await.unwrap();
    let routed = h
        .store
        .append_event_once("evt_obj_1", &event)
        .await
        .unwrap();
    assert_eq!(routed, (seq, true));
    let all = h.store.read_events(0, 0).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, "evt_obj_1");
}

/// An event is unrouted until marked: a crash between recording and
/// routing leaves it to be routed again, once it is old enough that no live
/// publisher is still routing it.
pub async fn unrouted_events_are_found_until_marked_routed(h: Harness) {
    let event = NewEvent {
        source: "shop".into(),
        detail_type: "order".into(),
        detail: json!({ "id": 1 }),
    };
    let first = h.store.append_event(&event).await.unwrap();
    h.advance(1_000);
    let second = h.store.append_event(&event).await.unwrap();
    let by_now = h.store.unrouted_events(h.now(), 0).await.unwrap();
    assert_eq!(
        by_now.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [first, second]
    );
    let older = h.store.unrouted_events(h.now() - 500, 0).await.unwrap();
    assert_eq!(
        older.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [first],
        "only events recorded by the given time"
    );
    h.store.mark_event_routed(first).await.unwrap();
    h.store.mark_event_routed(first).await.unwrap(); // marking twice is harmless
    let left = h.store.unrouted_events(h.now(), 10).await.unwrap();
    assert_eq!(left.iter().map(|e| e.seq).collect::<Vec<_>>(), [second]);
    assert_eq!(left[0].detail, json!({ "id": 1 }));
}

/// Lines get global positions in commit order; a target's lines (of all its
/// runs) are read in that order after a position; every status change of a
/// run writes a `status` line in its own transaction.
pub async fn log_positions_order_a_targets_lines_and_status_changes(h: Harness) {
    submit(&h, &new_run("run_1", "etl")).await;
    submit(&h, &new_run("run_2", "other")).await;
    submit(&h, &new_run("run_3", "etl")).await;
    assert_eq!(h.store.last_log_position().await.unwrap(), 0);
    let at = h.now();
    h.store
        .append_logs(&[line("run_1", "a", at), line("run_2", "b", at)])
        .await
        .unwrap();
    h.store
        .append_logs(&[line("run_3", "c", at)])
        .await
        .unwrap();
    h.store
        .append_logs(&[line("run_1", "d", at)])
        .await
        .unwrap();
    let etl = h.store.read_target_logs("etl", 0, 0).await.unwrap();
    let texts: Vec<&str> = etl.iter().map(|l| l.line.as_str()).collect();
    assert_eq!(
        texts,
        ["a", "c", "d"],
        "a target's lines of every run, in commit order"
    );
    assert!(
        etl.windows(2).all(|w| w[0].position < w[1].position),
        "positions increase: {etl:?}"
    );
    let rest = h
        .store
        .read_target_logs("etl", etl[0].position, 1)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1, "limit caps");
    assert_eq!(rest[0].line, "c", "`after` excludes");
    assert_eq!(h.store.last_log_position().await.unwrap(), etl[2].position);

    h.store.begin_run("run_3", &[]).await.unwrap();
    h.store
        .update_run(
            "run_3",
            &crate::RunUpdate {
                status: sluice_core::RunStatus::Cancelled,
                output: None,
                error: Some("cancelled".into()),
            },
        )
        .await
        .unwrap();
    let statuses: Vec<serde_json::Value> = h
        .store
        .read_target_logs("etl", etl[2].position, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.stream == crate::STATUS_STREAM)
        .map(|l| serde_json::from_str(&l.line).unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            json!({ "status": "running", "error": null }),
            json!({ "status": "cancelled", "error": "cancelled" })
        ],
        "each status change of a run is a line of its log"
    );
}
