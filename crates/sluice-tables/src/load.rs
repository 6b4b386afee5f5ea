//! Loading one CSV file into a table: parse and check on a blocking thread,
//! write on the async side, joined by a small bounded channel so parsing and
//! writing overlap while memory stays at a couple of batches.
//!
//! Policies: *all-or-nothing* writes inside one transaction and rolls it back
//! if any record is invalid (parsing goes on to report every bad record);
//! *load-valid* commits after every batch and reports the invalid records.
//! Loading the same file version again finds its marker and changes nothing.

use crate::backend::{LoadMarker, PriorLoad, TableBackend};
use crate::csv::{CsvFormat, CsvRows, ReadError, Record, Rejection, Row};
use crate::schema::TableSchema;
use crate::TableError;
use sluice_spec::LoadPolicy;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Instant;

/// Invalid records kept in memory for the summary; the rest go only to the
/// rejects file.
pub const ERRORS_KEPT: usize = 100;

/// How one file should be loaded.
pub struct LoadRequest {
    pub policy: LoadPolicy,
    pub batch_size: usize,
    pub source: String,
    pub fingerprint: String,
    pub run_id: String,
    /// Told the number of rows written after every batch.
    pub progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
}

/// How a load ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadStatus {
    /// Every record loaded.
    Loaded,
    /// Valid records loaded, invalid ones reported (`load-valid`).
    Partial,
    /// Nothing loaded: the file, or (all-or-nothing) a record, was invalid.
    Rejected,
    /// This file version was loaded before; nothing changed.
    AlreadyLoaded,
}

/// The outcome of a load, for the run's output, the report and notifications.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    pub status: LoadStatus,
    pub rows_read: u64,
    pub rows_loaded: u64,
    pub rows_rejected: u64,
    /// Why the whole file was rejected, if it was.
    pub file_error: Option<Rejection>,
    /// The first [`ERRORS_KEPT`] problems.
    pub errors: Vec<Rejection>,
    /// Problems in all (a record may have several).
    pub error_count: u64,
    pub prior_load: Option<PriorLoad>,
    pub duration_ms: u64,
}

/// What the parsing thread found.
struct Parsed {
    rows_read: u64,
    rows_valid: u64,
    rows_rejected: u64,
    file_error: Option<Rejection>,
    errors: Vec<Rejection>,
    error_count: u64,
}

/// Loads `read` into `schema`'s table. Every invalid record is also written
/// to `rejects` as CSV (`line,column,value,reason`). Returns `Err` only for
/// failures worth retrying (the database, reading the file); a bad file is
/// an `Ok` report with status [`LoadStatus::Rejected`].
pub async fn load_csv<R, W>(
    read: R,
    schema: Arc<TableSchema>,
    format: CsvFormat,
    backend: &dyn TableBackend,
    request: &LoadRequest,
    rejects: W,
) -> Result<LoadReport, LoadError>
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let started = Instant::now();
    if let Some(prior) = backend
        .prior_load(&schema, &request.source, &request.fingerprint)
        .await?
    {
        return Ok(LoadReport {
            status: LoadStatus::AlreadyLoaded,
            rows_read: 0,
            rows_loaded: 0,
            rows_rejected: 0,
            file_error: None,
            errors: Vec::new(),
            error_count: 0,
            prior_load: Some(prior),
            duration_ms: started.elapsed().as_millis() as u64,
        });
    }
    let mut writer = backend.writer(&schema).await?;
    let (batches, mut received) = tokio::sync::mpsc::channel::<Vec<Row>>(2);
    let all_or_nothing = request.policy == LoadPolicy::AllOrNothing;
    let batch_size = request.batch_size.max(1);
    let parser = {
        let schema = schema.clone();
        tokio::task::spawn_blocking(move || {
            parse(
                read,
                schema,
                &format,
                batch_size,
                all_or_nothing,
                batches,
                rejects,
            )
        })
    };
    let mut written = 0u64;
    let mut write_error = None;
    while let Some(batch) = received.recv().await {
        let rows = batch.len() as u64;
        let mut result = writer.write(batch).await;
        if result.is_ok() && !all_or_nothing {
            result = writer.checkpoint().await;
        }
        if let Err(e) = result {
            write_error = Some(e);
            break;
        }
        written += rows;
        if let Some(progress) = &request.progress {
            progress(written);
        }
    }
    // Dropping the receiver stops the parser at its next batch.
    drop(received);
    let parsed = parser.await.expect("CSV parser panicked");
    if let Some(e) = write_error {
        let _ = writer.rollback().await;
        return Err(e.into());
    }
    let parsed = match parsed {
        Ok(p) => p,
        Err(ReadError::Io(e)) => {
            let _ = writer.rollback().await;
            return Err(LoadError::Read(e));
        }
        Err(ReadError::Rejected(_)) => unreachable!("parse reports file errors in Parsed"),
    };
    let rejected = parsed.file_error.is_some()
        || (all_or_nothing && parsed.rows_rejected > 0)
        || (parsed.rows_read == 0)
        || (parsed.rows_valid == 0 && parsed.rows_rejected > 0);
    let mut file_error = parsed.file_error;
    if file_error.is_none() && parsed.rows_read == 0 {
        file_error = Some(Rejection {
            line: 1,
            column: None,
            value: None,
            reason: "the file has a header but no records".into(),
        });
    }
    let rows_loaded = if rejected {
        writer.rollback().await?;
        0
    } else {
        let marker = LoadMarker {
            source: request.source.clone(),
            fingerprint: request.fingerprint.clone(),
            run_id: request.run_id.clone(),
            rows: written,
        };
        writer.commit(&marker).await?;
        written
    };
    let status = if rejected {
        LoadStatus::Rejected
    } else if parsed.rows_rejected > 0 {
        LoadStatus::Partial
    } else {
        LoadStatus::Loaded
    };
    Ok(LoadReport {
        status,
        rows_read: parsed.rows_read,
        rows_loaded,
        rows_rejected: parsed.rows_rejected,
        file_error,
        errors: parsed.errors,
        error_count: parsed.error_count,
        prior_load: None,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// Why a load must be retried.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("cannot read the file: {0}")]
    Read(std::io::Error),
}

fn parse<R: Read, W: Write>(
    read: R,
    schema: Arc<TableSchema>,
    format: &CsvFormat,
    batch_size: usize,
    all_or_nothing: bool,
    batches: tokio::sync::mpsc::Sender<Vec<Row>>,
    rejects: W,
) -> Result<Parsed, ReadError> {
    let mut parsed = Parsed {
        rows_read: 0,
        rows_valid: 0,
        rows_rejected: 0,
        file_error: None,
        errors: Vec::new(),
        error_count: 0,
    };
    let mut report = csv::Writer::from_writer(rejects);
    let note = |report: &mut csv::Writer<W>, parsed: &mut Parsed, r: Rejection| {
        let _ = report.write_record([
            r.line.to_string().as_str(),
            r.column.as_deref().unwrap_or(""),
            r.value.as_deref().unwrap_or(""),
            r.reason.as_str(),
        ]);
        parsed.error_count += 1;
        if parsed.errors.len() < ERRORS_KEPT {
            parsed.errors.push(r);
        }
    };
    let _ = report.write_record(["line", "column", "value", "reason"]);
    let mut rows = match CsvRows::open(read, schema, format) {
        Ok(rows) => rows,
        Err(ReadError::Rejected(e)) => {
            let r = Rejection {
                line: e.line,
                column: None,
                value: None,
                reason: e.reason,
            };
            note(&mut report, &mut parsed, r.clone());
            parsed.file_error = Some(r);
            let _ = report.flush();
            return Ok(parsed);
        }
        Err(e) => return Err(e),
    };
    let mut batch = Vec::with_capacity(batch_size);
    let mut sending = true;
    while let Some((_, record)) = rows.next_record()? {
        parsed.rows_read += 1;
        match record {
            Record::Valid(row) => {
                parsed.rows_valid += 1;
                if sending {
                    batch.push(row);
                    if batch.len() == batch_size {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                        if batches.blocking_send(full).is_err() {
                            break; // the writer failed; its error is reported
                        }
                    }
                }
            }
            Record::Invalid(problems) => {
                parsed.rows_rejected += 1;
                // All-or-nothing: nothing more is worth writing, but every
                // bad record is still worth reporting.
                sending &= !all_or_nothing;
                for p in problems {
                    note(&mut report, &mut parsed, p);
                }
            }
        }
    }
    if sending && !batch.is_empty() {
        let _ = batches.blocking_send(batch);
    }
    let _ = report.flush();
    Ok(parsed)
}
