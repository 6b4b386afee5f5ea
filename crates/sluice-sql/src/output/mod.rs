//! A query's rows written to a file as CSV (with a header row), JSON Lines
//! or Parquet, optionally compressed with gzip or zstd.
//!
//! [`export`] reads batches as the query produces them and hands them to an
//! encoder on a blocking thread through a channel of two batches, so memory
//! stays bounded whatever the number of rows: a few batches, the encoder's
//! buffer, and for Parquet one row group (capped in rows and bytes).
//!
//! CSV and JSON Lines are compressed as a whole (`.csv.gz`, `.jsonl.zst`);
//! Parquet compresses its column chunks with the chosen codec instead, so a
//! `.parquet` file stays readable by every Parquet reader.

mod csv;
mod jsonl;
mod parquet;
mod sink;
mod text;

use crate::warehouse::Rows;
use crate::SqlError;
use arrow_array::RecordBatch;
use futures::StreamExt;
pub use sink::Output;
use sink::Sink;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// The file format of an extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Csv,
    JsonLines,
    Parquet,
}

/// Compression of an extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Zstd,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "csv" => Ok(Format::Csv),
            "jsonl" | "json-lines" | "ndjson" => Ok(Format::JsonLines),
            "parquet" => Ok(Format::Parquet),
            other => Err(format!(
                "unknown format `{other}`: use csv, jsonl or parquet"
            )),
        }
    }
}

impl FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Compression::None),
            "gzip" | "gz" => Ok(Compression::Gzip),
            "zstd" | "zst" => Ok(Compression::Zstd),
            other => Err(format!(
                "unknown compression `{other}`: use none, gzip or zstd"
            )),
        }
    }
}

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputSpec {
    pub format: Format,
    pub compression: Compression,
}

impl OutputSpec {
    /// The file name extension: `csv`, `csv.gz`, `jsonl.zst`, `parquet`…
    pub fn extension(&self) -> &'static str {
        match (self.format, self.compression) {
            (Format::Csv, Compression::None) => "csv",
            (Format::Csv, Compression::Gzip) => "csv.gz",
            (Format::Csv, Compression::Zstd) => "csv.zst",
            (Format::JsonLines, Compression::None) => "jsonl",
            (Format::JsonLines, Compression::Gzip) => "jsonl.gz",
            (Format::JsonLines, Compression::Zstd) => "jsonl.zst",
            (Format::Parquet, _) => "parquet",
        }
    }

    /// The object's content type.
    pub fn content_type(&self) -> &'static str {
        match (self.format, self.compression) {
            (Format::Parquet, _) => "application/vnd.apache.parquet",
            (_, Compression::Gzip) => "application/gzip",
            (_, Compression::Zstd) => "application/zstd",
            (Format::Csv, Compression::None) => "text/csv",
            (Format::JsonLines, Compression::None) => "application/jsonl",
        }
    }
}

impl fmt::Display for OutputSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    /// Bytes of the file, after compression.
    pub bytes: u64,
}

/// Why an export stopped.
#[derive(Debug, Error)]
pub enum ExportError {
    /// The query failed (possibly part-way).
    #[error(transparent)]
    Query(#[from] SqlError),
    /// The file could not be written.
    #[error("cannot write the extract file: {0}")]
    Io(#[from] std::io::Error),
    /// The encoder refused the data.
    #[error("cannot encode the rows as {format}: {reason}")]
    Encode {
        format: &'static str,
        reason: String,
    },
}

/// One output format's encoder.
trait Encoder: Send {
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError>;
    /// Writes what remains (footer, buffered rows) and returns the sink.
    fn finish(self: Box<Self>) -> Result<Sink, ExportError>;
}

/// Writes all of `rows` to `file` as `spec` says. Returns once the last byte
/// is written, or with the query's or the file's error (the file is then
/// partial and must be discarded).
pub async fn export(
    rows: Rows,
    spec: OutputSpec,
    file: std::fs::File,
) -> Result<Written, ExportError> {
    Ok(export_with_progress(rows, spec, file, |_| {}).await?.0)
}

/// [`export`] to any output (handed back, flushed, on success), calling
/// `on_batch` with the rows read so far after each batch.
pub async fn export_with_progress<W: Output>(
    rows: Rows,
    spec: OutputSpec,
    file: W,
    mut on_batch: impl FnMut(u64),
) -> Result<(Written, W), ExportError> {
    let Rows {
        schema,
        mut batches,
    } = rows;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<RecordBatch>(2);
    let writer = tokio::task::spawn_blocking(move || {
        let sink = Sink::new(Box::new(file), spec)?;
        let mut encoder: Box<dyn Encoder> = match spec.format {
            Format::Csv => Box::new(csv::CsvEncoder::new(sink, &schema)?),
            Format::JsonLines => Box::new(jsonl::JsonLinesEncoder::new(sink, &schema)),
            Format::Parquet => Box::new(parquet::ParquetEncoder::new(sink, &schema, spec)?),
        };
        let mut rows = 0u64;
        while let Some(batch) = rx.blocking_recv() {
            rows += batch.num_rows() as u64;
            encoder.write_batch(&batch)?;
        }
        let (bytes, output) = encoder.finish()?.finish()?;
        let output = *output
            .into_any()
            .downcast::<W>()
            .expect("the sink hands back the output it was given");
        Ok::<_, ExportError>((Written { rows, bytes }, output))
    });
    let (mut failure, mut read) = (None, 0u64);
    while let Some(batch) = batches.next().await {
        match batch {
            Ok(batch) => {
                read += batch.num_rows() as u64;
                if tx.send(batch).await.is_err() {
                    break; // the writer failed: its error is reported below
                }
                on_batch(read);
            }
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    drop(batches); // cancels the query if it is still running
    drop(tx);
    let written = writer
        .await
        .map_err(|e| ExportError::Io(std::io::Error::other(e.to_string())))?;
    match failure {
        Some(error) => Err(error.into()),
        None => written,
    }
}
