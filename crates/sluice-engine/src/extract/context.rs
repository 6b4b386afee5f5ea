//! What one extract works with: which SQL object, its text, the run's
//! logical date, and the values templates see.

use crate::invoke::StepFailure;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sluice_core::transform::{apply_template, lookup};
use sluice_objects::{GetObjectOptions, ObjectService};
use sluice_spec::SqlExtract;
use sluice_store::RunRecord;
use std::collections::BTreeMap;

/// SQL files larger than this are refused (a query, not a data file).
const MAX_SQL_BYTES: u64 = 4 << 20;

/// The SQL object an extract runs.
pub(super) struct Source {
    pub bucket: String,
    pub key: String,
}

/// The values an extract's templates see that come from the project and the
/// run: `with.params` (with `$.path` values read from the run's input) and
/// the logical date. The first attempt records them in its output, success
/// or failure, and later attempts reuse them, so a rerun repeats the
/// original run even if `sluice.yaml` changed since.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct Resolved {
    pub params: Value,
    pub logical_date: DateTime<Utc>,
}

impl Resolved {
    /// Resolves from the current project's `with.params` and the run.
    pub fn now(params: &SqlExtract, run: &RunRecord) -> Result<Resolved, StepFailure> {
        Ok(Resolved {
            params: apply_template(&Value::Object(params.params.clone()), &run.input),
            logical_date: logical_date(run)?,
        })
    }

    /// What an earlier attempt recorded (`resolved` in its output).
    pub fn recorded(output: &Value) -> Option<Resolved> {
        serde_json::from_value(output.get("resolved")?.clone()).ok()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "params": self.params,
            "logical_date": self.logical_date.to_rfc3339_opts(SecondsFormat::Secs, true),
        })
    }
}

/// One extract's context.
pub(super) struct Extract {
    pub source: Source,
    /// The file as the step names it (`orders.sql`, `eu/orders.sql`).
    pub file: String,
    /// The file without `.sql` (`orders`).
    pub name: String,
    pub run_id: String,
    pub logical_date: DateTime<Utc>,
    /// `with.params`, with `$.path` values read from the run's input.
    pub params: Value,
}

impl Extract {
    pub fn new(
        params: &SqlExtract,
        input: &Value,
        run: &RunRecord,
        resolved: Resolved,
    ) -> Result<Extract, StepFailure> {
        let (source, file) = source(params, input)?;
        let name = file.strip_suffix(".sql").unwrap_or(&file).to_string();
        Ok(Extract {
            source,
            name,
            file,
            run_id: run.id.clone(),
            logical_date: resolved.logical_date,
            params: resolved.params,
        })
    }

    pub fn logical_date_text(&self) -> String {
        self.logical_date.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// Values of `{{ … }}` in the query.
    pub fn sql_values(&self) -> BTreeMap<String, Value> {
        BTreeMap::from([
            ("logical_date".to_string(), json!(self.logical_date_text())),
            (
                "logical_timestamp".to_string(),
                json!(self.logical_date.format("%Y-%m-%d %H:%M:%S").to_string()),
            ),
            (
                "date".to_string(),
                json!(self.logical_date.format("%Y-%m-%d").to_string()),
            ),
            ("run_id".to_string(), json!(self.run_id)),
            ("name".to_string(), json!(self.name)),
            ("params".to_string(), self.params.clone()),
        ])
    }

    /// Values of `{…}` in the output key.
    pub fn key_values(&self, ext: &str) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("name", self.name.clone()),
            ("file", self.file.clone()),
            ("date", self.logical_date.format("%Y-%m-%d").to_string()),
            ("time", self.logical_date.format("%H%M%S").to_string()),
            (
                "logical_date",
                self.logical_date.format("%Y%m%dT%H%M%SZ").to_string(),
            ),
            ("run_id", self.run_id.clone()),
            ("ext", ext.to_string()),
        ])
    }
}

/// The SQL object: `from_bucket`/`from_key`, a fan-out item over objects
/// (`{bucket, key, name}`), or an S3 event's first record.
fn source(params: &SqlExtract, input: &Value) -> Result<(Source, String), StepFailure> {
    let (bucket, key) = match (&params.from_bucket, &params.from_key) {
        (Some(b), Some(k)) => (b.clone(), k.clone()),
        _ => crate::objects::source_of(input).ok_or_else(|| {
            StepFailure::failed(
                "no SQL object: fan the phase out over a bucket prefix \
                 (`fan_out: { over: { objects: { bucket, prefix, suffix: .sql } } }`), \
                 give an S3 event as input, or set `from_bucket` and `from_key`"
                    .into(),
            )
        })?,
    };
    let file = match lookup(input, "$.name") {
        Some(Value::String(name)) if params.from_key.is_none() => name.clone(),
        _ => key.rsplit('/').next().unwrap_or(&key).to_string(),
    };
    Ok((Source { bucket, key }, file))
}

/// When the run is "for": a scheduled run's `detail.logical_date`, an input's
/// `logical_date`, or else when the run was created. Reruns keep it.
fn logical_date(run: &RunRecord) -> Result<DateTime<Utc>, StepFailure> {
    let given = lookup(&run.input, "$.detail.logical_date")
        .or_else(|| lookup(&run.input, "$.logical_date"));
    match given {
        Some(Value::String(text)) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                StepFailure::failed(format!(
                    "the run's logical_date `{text}` is not an RFC 3339 time: {e}"
                ))
            }),
        Some(other) => Err(StepFailure::failed(format!(
            "the run's logical_date must be an RFC 3339 string, found {other}"
        ))),
        None => Ok(DateTime::from_timestamp_millis(run.created_at).unwrap_or_else(Utc::now)),
    }
}

/// A SQL file as read from its bucket.
pub(super) struct SqlFile {
    pub bucket: String,
    pub key: String,
    pub version_id: String,
    pub text: String,
    /// Hex SHA-256 of the text.
    pub sha256: String,
}

impl SqlFile {
    /// Reads the latest version of the object; refuses what is not UTF-8 text.
    pub async fn read(objects: &ObjectService, source: &Source) -> Result<SqlFile, StepFailure> {
        use futures::TryStreamExt;
        let at = format!("s3://{}/{}", source.bucket, source.key);
        let body = objects
            .get_object(&source.bucket, &source.key, &GetObjectOptions::default())
            .await
            .map_err(|e| StepFailure::failed(format!("cannot read the SQL file {at}: {e}")))?;
        if body.version.size > MAX_SQL_BYTES {
            return Err(StepFailure::failed(format!(
                "the SQL file {at} is {} bytes; SQL files are limited to {MAX_SQL_BYTES} bytes",
                body.version.size
            )));
        }
        let bytes: Vec<u8> = body
            .bytes
            .map_ok(|chunk| chunk.to_vec())
            .try_concat()
            .await
            .map_err(|e| StepFailure::failed(format!("cannot read the SQL file {at}: {e}")))?;
        let version_id = body.version.version_id.clone();
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = e.utf8_error().valid_up_to();
            let good = std::str::from_utf8(&e.as_bytes()[..valid]).unwrap_or_default();
            let p = sluice_sql::Position::at_byte(good, valid);
            StepFailure::failed(format!(
                "the SQL file {at} (version {version_id}) is not UTF-8 text: invalid byte 0x{:02x} \
                 at line {}, column {} (byte {valid}); save it as UTF-8",
                e.as_bytes()[valid], p.line, p.column
            ))
        })?;
        let sha256 = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(SqlFile {
            bucket: source.bucket.clone(),
            key: source.key.clone(),
            version_id,
            text,
            sha256,
        })
    }
}
