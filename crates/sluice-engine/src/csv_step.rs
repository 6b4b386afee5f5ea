//! The built-in `csv-load` step: read a CSV object, load it into a table by
//! policy, then move it to the archive (loaded) or error (rejected) bucket
//! with its report beside it: `KEY.report.json` (the summary) and, when
//! records were rejected, `KEY.rejects.csv` (line, column, value, reason).
//!
//! A bad file is not a failed step: it is handled (rejected, moved, reported)
//! and the step's output says so, so the pipeline's next phase can notify.
//! Only failures worth retrying — the database or the object store — fail
//! the step, leaving the file where it was for the retry.

use crate::engine::Engine;
use crate::logs::RunLog;
use crate::objects::source_of;
use serde_json::{json, Value};
use sluice_objects::{GetObjectOptions, ObjectService, PutObjectOptions};
use sluice_runtime::{LogSink, ProgressReport};
use sluice_spec::CsvLoad;
use sluice_tables::csv::CsvFormat;
use sluice_tables::{load_csv, LoadReport, LoadRequest, LoadStatus};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

impl Engine {
    pub(crate) async fn csv_load(
        &self,
        params: &CsvLoad,
        input: &Value,
        run_id: &str,
        log: &Arc<RunLog>,
    ) -> Result<Value, String> {
        let objects = self
            .inner
            .objects
            .get()
            .ok_or("no buckets are served by this Sluice")?;
        let tables = self
            .inner
            .tables
            .get()
            .ok_or("no tables are declared in this project")?;
        let table = tables.get(&params.table).map_err(|e| e.to_string())?;
        let (bucket, key) = source_of(input).ok_or(
            "no source object: give an S3 event (a bucket trigger) or `{\"bucket\", \"key\"}` as input",
        )?;
        let body = objects
            .get_object(&bucket, &key, &GetObjectOptions::default())
            .await
            .map_err(|e| format!("cannot read s3://{bucket}/{key}: {e}"))?;
        let version = body.version.clone();
        let source = format!("s3://{bucket}/{key}");
        // A version id names the exact bytes; unversioned objects fall back
        // to the ETag, so the same content dropped twice is loaded once.
        let fingerprint = if version.version_id == "null" {
            format!("etag:{}", version.etag)
        } else {
            format!("version:{}", version.version_id)
        };
        log.note(format!(
            "csv-load {source} (version {}, {} bytes) into table `{}` on {} with policy {}",
            version.version_id,
            version.size,
            params.table,
            table.backend.describe(),
            params.policy.as_str()
        ));
        let consumed = Arc::new(AtomicU64::new(0));
        let reader = CountingReader {
            inner: tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(body.bytes)),
            consumed: consumed.clone(),
        };
        let rejects = tempfile::NamedTempFile::new()
            .map_err(|e| format!("cannot create the rejects file: {e}"))?;
        let rejects_writer = rejects
            .reopen()
            .map_err(|e| format!("cannot open the rejects file: {e}"))?;
        let request = LoadRequest {
            policy: params.policy,
            batch_size: params.batch_size(),
            source: source.clone(),
            fingerprint,
            run_id: run_id.to_string(),
            progress: Some(progress_reporter(log.clone(), consumed, version.size)),
        };
        let report = load_csv(
            reader,
            table.schema.clone(),
            CsvFormat::from_params(params),
            &*table.backend,
            &request,
            std::io::BufWriter::new(rejects_writer),
        )
        .await
        .map_err(|e| {
            format!(
                "loading {source} into `{}` failed and will be retried: {e}",
                params.table
            )
        })?;
        log_outcome(log, &report, &source);
        let destination = match report.status {
            LoadStatus::Rejected => params.error.as_ref(),
            _ => params.archive.as_ref(),
        };
        let mut output = json!({
            "status": report.status,
            "table": params.table,
            "file": { "bucket": bucket, "key": key, "version_id": version.version_id, "size": version.size },
            "policy": params.policy.as_str(),
            "rows": { "read": report.rows_read, "loaded": report.rows_loaded, "rejected": report.rows_rejected },
            "errors": report.errors,
            "error_count": report.error_count,
            "file_error": report.file_error,
            "prior_load": report.prior_load,
            "duration_ms": report.duration_ms,
            "run_id": run_id,
        });
        if let Some(dest) = destination {
            let target_key = dest.key_for(&key);
            let moved = objects
                .move_object(&bucket, &key, &dest.bucket, &target_key)
                .await
                .map_err(|e| {
                    format!(
                        "cannot move {source} to s3://{}/{target_key}: {e}",
                        dest.bucket
                    )
                })?;
            output["moved_to"] =
                json!({ "bucket": dest.bucket, "key": target_key, "version_id": moved.version_id });
            let reports = write_reports(
                objects,
                &dest.bucket,
                &target_key,
                &output,
                &report,
                rejects.path(),
            )
            .await?;
            output["report"] = reports;
            log.note(format!(
                "moved {source} to s3://{}/{target_key}; report at s3://{}/{target_key}.report.json",
                dest.bucket, dest.bucket
            ));
        }
        Ok(output)
    }
}

/// Reports progress as bytes of the object read, with rows in the message.
fn progress_reporter(
    log: Arc<RunLog>,
    consumed: Arc<AtomicU64>,
    size: u64,
) -> Arc<dyn Fn(u64) + Send + Sync> {
    Arc::new(move |rows: u64| {
        log.progress(ProgressReport {
            done: consumed.load(Ordering::Relaxed).min(size),
            total: Some(size),
            message: Some(format!("{rows} rows loaded")),
        });
    })
}

fn log_outcome(log: &RunLog, report: &LoadReport, source: &str) {
    let rows = format!(
        "{} read, {} loaded, {} rejected in {} ms",
        report.rows_read, report.rows_loaded, report.rows_rejected, report.duration_ms
    );
    match report.status {
        LoadStatus::Loaded => log.note(format!("loaded {source}: {rows}")),
        LoadStatus::Partial => log.note(format!("loaded the valid records of {source}: {rows}")),
        LoadStatus::AlreadyLoaded => {
            let prior = report.prior_load.as_ref();
            log.note(format!(
                "{source} was already loaded (run {}, {} rows, {}); nothing changed",
                prior.map_or("?", |p| p.run_id.as_str()),
                prior.map_or(0, |p| p.rows),
                prior.map_or("?", |p| p.loaded_at.as_str()),
            ))
        }
        LoadStatus::Rejected => {
            let why = match &report.file_error {
                Some(e) => format!("line {}: {}", e.line, e.reason),
                None => format!(
                    "{} invalid records (policy all-or-nothing)",
                    report.rows_rejected
                ),
            };
            log.note(format!("rejected {source}, nothing loaded: {why}; {rows}"))
        }
    }
    for e in report.errors.iter().take(20) {
        log.note(format!(
            "line {}{}: {}{}",
            e.line,
            e.column
                .as_deref()
                .map(|c| format!(", column `{c}`"))
                .unwrap_or_default(),
            e.reason,
            e.value
                .as_deref()
                .map(|v| format!(" (value `{v}`)"))
                .unwrap_or_default(),
        ));
    }
    if report.error_count > 20 {
        log.note(format!(
            "… and {} more problems: see the rejects report",
            report.error_count - 20
        ));
    }
}

/// Stores the summary and, if any record was rejected, the rejects CSV.
async fn write_reports(
    objects: &ObjectService,
    bucket: &str,
    key: &str,
    summary: &Value,
    report: &LoadReport,
    rejects: &std::path::Path,
) -> Result<Value, String> {
    let summary_key = format!("{key}.report.json");
    let text = serde_json::to_vec_pretty(summary).unwrap_or_default();
    objects
        .put_bytes(bucket, &summary_key, text, "application/json")
        .await
        .map_err(|e| format!("cannot store the report s3://{bucket}/{summary_key}: {e}"))?;
    let mut written = json!({ "summary": { "bucket": bucket, "key": summary_key } });
    if report.error_count > 0 {
        let rejects_key = format!("{key}.rejects.csv");
        let file = tokio::fs::File::open(rejects)
            .await
            .map_err(|e| format!("cannot read the rejects file: {e}"))?;
        let length = file.metadata().await.map(|m| m.len()).ok();
        let body: sluice_objects::ByteStream = Box::pin(tokio_util::io::ReaderStream::new(file));
        let options = PutObjectOptions {
            content_type: Some("text/csv".into()),
            content_length: length,
            ..Default::default()
        };
        objects
            .put_object(bucket, &rejects_key, body, options)
            .await
            .map_err(|e| format!("cannot store the rejects s3://{bucket}/{rejects_key}: {e}"))?;
        written["rejects"] = json!({ "bucket": bucket, "key": rejects_key });
    }
    Ok(written)
}

/// Counts the bytes read, for progress.
struct CountingReader<R> {
    inner: R,
    consumed: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
