//! The built-in `table-put` step: the records an earlier phase produced (a
//! list of JSON objects) written into a declared table, with no code.
//!
//! The records go through exactly the path a CSV file takes in `csv-load`:
//! they are written as CSV text in memory (a header of the table's columns
//! and of any other key a record has, so an unknown field is refused as a
//! file's unknown column is) and loaded by policy, every value checked
//! against the table's types and constraints. A record's problems are
//! reported by its index in the list. The load is keyed by the run, the
//! step and a hash of the records, so a retried step writes once.
//!
//! Unlike a file, bad records are not something to move aside: under
//! `all-or-nothing` they fail the step (the records stay in the previous
//! phase's stored output, and a rerun of the step retries them); under
//! `load-valid` the valid ones are written and the output lists the rest.

use crate::engine::Engine;
use crate::logs::RunLog;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use sluice_runtime::{LogSink, ProgressReport};
use sluice_spec::{CsvLoad, TablePut, UnknownColumns};
use sluice_tables::csv::{CsvFormat, Rejection};
use sluice_tables::{load_csv, LoadRequest, LoadStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

impl Engine {
    pub(crate) async fn table_put(
        &self,
        params: &TablePut,
        input: &Value,
        run_id: &str,
        step: &str,
        log: &Arc<RunLog>,
    ) -> Result<Value, String> {
        let tables = self
            .inner
            .tables
            .get()
            .ok_or("no tables are declared in this project")?;
        let table = tables.get(&params.table).map_err(|e| e.to_string())?;
        let records = records_of(params, input)?;
        let columns: Vec<String> = table
            .schema
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let csv = to_csv(&columns, records);
        let digest: String = Sha256::digest(&csv)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let fingerprint = format!("sha256:{digest}");
        let count = records.len() as u64;
        log.note(format!(
            "table-put {count} records into table `{}` on {} with policy {}",
            params.table,
            table.backend.describe(),
            params.policy.as_str()
        ));
        let progress_log = log.clone();
        let reported = Arc::new(AtomicBool::new(false));
        let reported_by_load = reported.clone();
        let request = LoadRequest {
            policy: params.policy,
            batch_size: params
                .batch_size
                .map_or(sluice_spec::defaults::CSV_BATCH_SIZE, |n| n.max(1) as usize),
            source: format!("run:{run_id}/{step}"),
            fingerprint,
            run_id: run_id.to_string(),
            progress: Some(Arc::new(move |rows: u64| {
                reported_by_load.store(true, Ordering::Relaxed);
                progress_log.progress(ProgressReport {
                    done: rows.min(count),
                    total: Some(count),
                    message: Some(format!("{rows} records written")),
                });
            })),
        };
        let report = load_csv(
            std::io::Cursor::new(csv),
            table.schema.clone(),
            format(params),
            &*table.backend,
            &request,
            std::io::sink(),
        )
        .await
        .map_err(|e| {
            format!(
                "writing into `{}` failed and will be retried: {e}",
                params.table
            )
        })?;
        let problems: Vec<Value> = report.errors.iter().map(problem).collect();
        for p in problems.iter().take(20) {
            log.note(format!(
                "record {}: {}",
                p["record"],
                p["reason"].as_str().unwrap_or("")
            ));
        }
        let output = json!({
            "table": params.table,
            "status": report.status,
            "records": count,
            "written": report.rows_loaded,
            "rejected": report.rows_rejected,
            "problems": problems,
            "problem_count": report.error_count,
            "duration_ms": report.duration_ms,
        });
        if report.status == LoadStatus::Rejected {
            let why = report
                .file_error
                .as_ref()
                .map(|e| e.reason.clone())
                .or_else(|| report.errors.first().map(describe))
                .unwrap_or_else(|| "invalid records".into());
            return Err(format!(
                "nothing written into `{}` ({} of {count} records invalid, policy all-or-nothing): {why}",
                params.table, report.rows_rejected
            ));
        }
        log.note(format!(
            "wrote {} of {count} records into `{}` in {} ms",
            report.rows_loaded, params.table, report.duration_ms
        ));
        if !reported.load(Ordering::Relaxed) {
            // Already written by an earlier attempt: done all the same.
            log.progress(ProgressReport {
                done: count,
                total: Some(count),
                message: Some(format!("{} records written", report.rows_loaded)),
            });
        }
        Ok(output)
    }
}

/// The list of records the step writes.
fn records_of<'a>(params: &TablePut, input: &'a Value) -> Result<&'a [Value], String> {
    let path = params.records.as_deref().unwrap_or("$");
    let found = sluice_core::transform::lookup(input, path)
        .ok_or_else(|| format!("`records` `{path}` is not in the step's input"))?;
    let list = found
        .as_array()
        .ok_or_else(|| format!("`records` `{path}` is not a list of records"))?;
    if let Some(i) = list.iter().position(|r| !r.is_object()) {
        return Err(format!(
            "record {i} of `{path}` is not an object: {}",
            list[i].to_string().chars().take(80).collect::<String>()
        ));
    }
    Ok(list)
}

/// The records as CSV: the table's columns, then any other key in the
/// order first seen; a missing or null value is an empty field (null).
fn to_csv(columns: &[String], records: &[Value]) -> Vec<u8> {
    let mut header: Vec<String> = columns.to_vec();
    for record in records {
        for key in record.as_object().into_iter().flat_map(Map::keys) {
            if !header.contains(key) {
                header.push(key.clone());
            }
        }
    }
    let mut out = Vec::new();
    write_row(&mut out, header.iter().map(String::as_str));
    for record in records {
        let fields: Vec<String> = header
            .iter()
            .map(|column| match record.get(column) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            })
            .collect();
        write_row(&mut out, fields.iter().map(String::as_str));
    }
    out
}

/// One CSV row, RFC 4180: a field is quoted (quotes doubled) when it must be.
fn write_row<'a>(out: &mut Vec<u8>, fields: impl Iterator<Item = &'a str>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if field
            .bytes()
            .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        {
            out.push(b'"');
            out.extend_from_slice(field.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(field.as_bytes());
        }
    }
    out.push(b'\n');
}

fn format(params: &TablePut) -> CsvFormat {
    let csv = CsvLoad {
        table: params.table.clone(),
        policy: params.policy,
        header: Some(true),
        columns: None,
        delimiter: None,
        quote: None,
        escape: None,
        null: None,
        unknown_columns: UnknownColumns::Reject,
        batch_size: params.batch_size,
        archive: None,
        error: None,
    };
    CsvFormat::from_params(&csv)
}

/// A rejection by record index (line 1 is the header).
fn problem(rejection: &Rejection) -> Value {
    json!({
        "record": rejection.line.saturating_sub(2),
        "field": rejection.column,
        "value": rejection.value,
        "reason": rejection.reason,
    })
}

fn describe(rejection: &Rejection) -> String {
    match &rejection.column {
        Some(field) => format!(
            "record {}, field `{field}`: {}",
            rejection.line.saturating_sub(2),
            rejection.reason
        ),
        None => format!(
            "record {}: {}",
            rejection.line.saturating_sub(2),
            rejection.reason
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_become_csv_with_the_tables_columns_first() {
        let records = vec![
            json!({ "batch": 1, "rows": 250, "note": "a, b" }),
            json!({ "batch": 2, "extra": true }),
        ];
        let csv = to_csv(&["batch".into(), "rows".into()], &records);
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "batch,rows,note,extra\n1,250,\"a, b\",\n2,,,true\n"
        );
    }

    #[test]
    fn records_must_be_a_list_of_objects() {
        let params = TablePut {
            table: "t".into(),
            records: Some("$.items".into()),
            policy: Default::default(),
            batch_size: None,
        };
        assert!(records_of(&params, &json!({}))
            .unwrap_err()
            .contains("not in"));
        assert!(records_of(&params, &json!({ "items": 3 }))
            .unwrap_err()
            .contains("not a list"));
        assert!(records_of(&params, &json!({ "items": [{}, 4] }))
            .unwrap_err()
            .starts_with("record 1"));
    }
}
