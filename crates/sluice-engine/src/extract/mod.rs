//! The built-in `sql-extract` step: run one SQL file from a bucket against a
//! declared connection and store the result as an object.
//!
//! The SQL object is read when the step runs (its latest version), so a file
//! fixed in the bucket is what a rerun executes. `{{ name }}` values are put
//! into the query as literals ([`sluice_sql::template`]). Rows stream from
//! the database into a scratch file in bounded memory; only when the query
//! has completed is the file put into the target bucket, as one new version,
//! so readers never see a partial result. Every step logs what it read, ran
//! and wrote, and a failure says where in the SQL file it happened.
//!
//! The SQL file is re-read on a rerun, but the parameters and the logical
//! date are not: the first attempt records them (`resolved` in its output)
//! and later attempts of the step reuse them ([`context::Resolved`]).

mod context;
mod failure;

use crate::engine::Engine;
use crate::invoke::StepFailure;
use crate::logs::RunLog;
use context::{Extract, Resolved, SqlFile};
use serde_json::{json, Value};
use sluice_core::key_template::KeyTemplate;
use sluice_runtime::{LogSink, ProgressReport};
use sluice_spec::{SqlExtract, SQL_EXTRACT_KEY_VARIABLES};
use sluice_sql::output::{export_with_progress, OutputSpec};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a running extract reports the rows so far.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

impl Engine {
    /// Runs one extract; its input names the SQL object (a fan-out item,
    /// an S3 event, or `from_bucket`/`from_key` in `with`). The output, or
    /// the failure's detail, records the resolved parameters for reruns.
    pub(crate) async fn sql_extract(
        &self,
        run_id: &str,
        step: &str,
        attempt_number: u32,
        with: &Value,
        input: &Value,
        log: &Arc<RunLog>,
    ) -> Result<Value, StepFailure> {
        let params: SqlExtract = serde_json::from_value(with.clone())
            .map_err(|e| StepFailure::failed(format!("sql-extract parameters: {e}")))?;
        let run = self
            .store()
            .get_run(run_id)
            .await
            .map_err(|e| StepFailure::failed(e.to_string()))?;
        let resolved = match self.recorded_resolution(run_id, step, attempt_number).await {
            Some((number, resolved)) => {
                log.note(format!(
                    "parameters and logical date as attempt {number} resolved them: {}",
                    resolved.to_json()
                ));
                resolved
            }
            None => Resolved::now(&params, &run)?,
        };
        let pinned = resolved.to_json();
        let extract = Extract::new(&params, input, &run, resolved)?;
        match self.run_extract(&params, &extract, log).await {
            Ok(mut output) => {
                output["resolved"] = pinned;
                Ok(output)
            }
            Err(mut failure) => {
                let detail = failure
                    .detail
                    .get_or_insert_with(|| json!({ "errorMessage": failure.message }));
                detail["resolved"] = pinned;
                Err(failure)
            }
        }
    }

    /// The parameters an earlier attempt of this step resolved, with that
    /// attempt's number (none on a first attempt, or if none recorded them).
    async fn recorded_resolution(
        &self,
        run_id: &str,
        step: &str,
        attempt_number: u32,
    ) -> Option<(u32, Resolved)> {
        if attempt_number <= 1 {
            return None;
        }
        let steps = self.store().run_steps(run_id).await.ok()?;
        let step = steps.iter().find(|s| s.name == step)?;
        step.attempts
            .iter()
            .filter(|a| a.number < attempt_number)
            .filter_map(|a| Some((a.number, Resolved::recorded(a.output.as_ref()?)?)))
            .min_by_key(|(number, _)| *number)
    }

    /// The extract itself: read the SQL file, run it, store the result.
    async fn run_extract(
        &self,
        params: &SqlExtract,
        extract: &Extract,
        log: &Arc<RunLog>,
    ) -> Result<Value, StepFailure> {
        let spec = OutputSpec {
            format: params.format().parse().map_err(StepFailure::failed)?,
            compression: params.compression().parse().map_err(StepFailure::failed)?,
        };
        let template = KeyTemplate::parse(params.key(), SQL_EXTRACT_KEY_VARIABLES)
            .map_err(|e| StepFailure::failed(format!("with.key: {e}")))?;
        let warehouse = self
            .inner
            .plan
            .connections
            .get(&params.connection)
            .cloned()
            .ok_or_else(|| {
                StepFailure::failed(format!(
                    "connection `{}` is not declared",
                    params.connection
                ))
            })?;
        let objects =
            self.inner.objects.get().ok_or_else(|| {
                StepFailure::failed("no buckets are served by this Sluice".into())
            })?;
        let file = SqlFile::read(objects, &extract.source).await?;
        log.note(format!(
            "sql-extract {}: s3://{}/{} version {} ({} bytes, sha256 {})",
            extract.file,
            file.bucket,
            file.key,
            file.version_id,
            file.text.len(),
            &file.sha256[..16]
        ));
        log.note(format!(
            "connection `{}` ({}), logical date {}",
            warehouse.name(),
            warehouse.describe(),
            extract.logical_date_text()
        ));
        let key = template
            .render(&extract.key_values(spec.extension()))
            .map_err(|e| StepFailure::failed(format!("the output key: {e}")))?;
        let rendered =
            sluice_sql::template::render(&file.text, &extract.sql_values(), warehouse.dialect())
                .map_err(|e| failure::template(&extract.file, &file, e, log))?;
        let started = Instant::now();
        let rows = warehouse
            .query(&rendered.sql)
            .await
            .map_err(|e| failure::query(&extract.file, &file, &rendered, e, log))?;
        log.note(format!(
            "query running; columns: {}",
            rows.columns_summary()
        ));
        let scratch = objects.scratch_file().map_err(|e| {
            StepFailure::failed(format!("cannot create a scratch file for the result: {e}"))
        })?;
        let mut last_report = Instant::now();
        let progress = |rows: u64| {
            if last_report.elapsed() >= PROGRESS_EVERY {
                last_report = Instant::now();
                log.progress(ProgressReport {
                    done: rows,
                    total: None,
                    message: Some("rows extracted".into()),
                });
            }
        };
        let (written, scratch) = export_with_progress(rows, spec, scratch, progress)
            .await
            .map_err(|e| failure::export(&extract.file, &file, &rendered, e, log))?;
        let elapsed = started.elapsed();
        log.note(format!(
            "extracted {} rows in {:.2} s ({} bytes of {}, {:.0} rows/s)",
            written.rows,
            elapsed.as_secs_f64(),
            written.bytes,
            spec,
            written.rows as f64 / elapsed.as_secs_f64().max(1e-6)
        ));
        let version = objects
            .put_file(&params.to_bucket, &key, scratch, spec.content_type())
            .await
            .map_err(|e| {
                let message = format!("cannot store s3://{}/{key}: {e}", params.to_bucket);
                log.note(&message);
                StepFailure::failed(message)
            })?;
        log.note(format!(
            "wrote s3://{}/{} version {}",
            version.bucket, version.key, version.version_id
        ));
        Ok(json!({
            "sql": {
                "bucket": file.bucket,
                "key": file.key,
                "version_id": file.version_id,
                "sha256": file.sha256,
            },
            "connection": warehouse.name(),
            "logical_date": extract.logical_date_text(),
            "rows": written.rows,
            "bytes": written.bytes,
            "format": spec.extension(),
            "duration_ms": elapsed.as_millis() as u64,
            "bucket": version.bucket,
            "key": version.key,
            "version_id": version.version_id,
            "etag": version.etag,
        }))
    }
}
