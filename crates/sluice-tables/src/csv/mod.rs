//! Streaming CSV records into typed rows of a table.
//!
//! The reader holds one record at a time, so the file's size never bounds
//! memory. A problem with the file as a whole (empty, bad header) rejects it
//! at once ([`FileRejected`]); a problem with one record is a [`Rejection`]
//! naming the line, column, value and reason, and reading goes on so that a
//! report lists every bad record, not just the first.

mod header;

use crate::schema::TableSchema;
use crate::value::{check_value, shorten, Cell};
use csv::ByteRecord;
use sluice_spec::{CsvLoad, UnknownColumns};
use std::io::Read;
use std::sync::Arc;

/// A row in table column order.
pub type Row = Vec<Cell>;

/// How a file is written.
#[derive(Debug, Clone)]
pub struct CsvFormat {
    pub header: bool,
    /// Column names in file order when there is no header.
    pub columns: Option<Vec<String>>,
    pub delimiter: u8,
    pub quote: u8,
    pub escape: Option<u8>,
    /// Field texts read as null.
    pub null_values: Vec<String>,
    pub unknown_columns: UnknownColumns,
}

impl Default for CsvFormat {
    fn default() -> Self {
        CsvFormat {
            header: true,
            columns: None,
            delimiter: b',',
            quote: b'"',
            escape: None,
            null_values: vec![String::new()],
            unknown_columns: UnknownColumns::Reject,
        }
    }
}

impl CsvFormat {
    /// The format a `csv-load` step's parameters describe (validated: the
    /// characters are ASCII).
    pub fn from_params(params: &CsvLoad) -> Self {
        let byte = |c: Option<char>, default: u8| c.map_or(default, |c| c as u8);
        CsvFormat {
            header: params.header(),
            columns: params.columns.clone(),
            delimiter: byte(params.delimiter, b','),
            quote: byte(params.quote, b'"'),
            escape: params.escape.map(|c| c as u8),
            null_values: params.null_values(),
            unknown_columns: params.unknown_columns,
        }
    }
}

/// One problem with one record (or, with `line` 1 and no value, the header).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rejection {
    /// 1-based line where the record starts.
    pub line: u64,
    pub column: Option<String>,
    pub value: Option<String>,
    pub reason: String,
}

/// The file as a whole cannot be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct FileRejected {
    pub line: u64,
    pub reason: String,
}

/// Why reading stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Rejected(#[from] FileRejected),
    /// Reading the bytes failed (the object store, the disk): worth a retry.
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
}

/// One record, checked.
#[derive(Debug)]
pub enum Record {
    Valid(Row),
    Invalid(Vec<Rejection>),
}

/// Records of a CSV file as typed rows of `schema`.
pub struct CsvRows<R: Read> {
    reader: csv::Reader<R>,
    schema: Arc<TableSchema>,
    /// For each field position: the table column it fills, if any.
    mapping: Vec<Option<usize>>,
    nulls: Vec<Vec<u8>>,
    record: ByteRecord,
    /// Records read so far (the header excluded).
    pub records: u64,
}

impl<R: Read> CsvRows<R> {
    /// Opens the file and, if it has one, reads and checks its header.
    pub fn open(read: R, schema: Arc<TableSchema>, format: &CsvFormat) -> Result<Self, ReadError> {
        let mut builder = csv::ReaderBuilder::new();
        builder
            .has_headers(false)
            .flexible(true)
            .delimiter(format.delimiter)
            .quote(format.quote)
            .double_quote(format.escape.is_none())
            .escape(format.escape);
        let mut reader = builder.from_reader(read);
        let mut record = ByteRecord::new();
        let mapping = if format.header {
            if !read_record(&mut reader, &mut record)? {
                return Err(FileRejected {
                    line: 1,
                    reason: "the file is empty".into(),
                }
                .into());
            }
            strip_bom(&mut record);
            header::map_header(&schema, &record, format.unknown_columns)?
        } else {
            header::map_declared(&schema, format.columns.as_deref())?
        };
        Ok(CsvRows {
            reader,
            schema,
            mapping,
            nulls: format
                .null_values
                .iter()
                .map(|n| n.as_bytes().to_vec())
                .collect(),
            record,
            records: 0,
        })
    }

    /// The next record, or `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<(u64, Record)>, ReadError> {
        loop {
            if !read_record(&mut self.reader, &mut self.record)? {
                return Ok(None);
            }
            if self.record.len() == 1 && self.record[0].is_empty() {
                continue; // a blank line
            }
            if self.records == 0 && self.mapping.len() == self.record.len() {
                strip_bom(&mut self.record); // no header: the BOM is on the first record
            }
            self.records += 1;
            let line = self.record.position().map_or(0, |p| p.line());
            // The reader now stands at the start of the next record.
            let last_line = self.reader.position().line().saturating_sub(1).max(line);
            return Ok(Some((line, self.check(line, last_line))));
        }
    }

    fn check(&self, line: u64, last_line: u64) -> Record {
        if self.record.len() != self.mapping.len() {
            return Record::Invalid(vec![self.ragged(line, last_line)]);
        }
        let schema = &self.schema;
        let mut row = vec![Cell::Null; schema.columns.len()];
        let mut errors = Vec::new();
        for (field, target) in self.record.iter().zip(&self.mapping) {
            let Some(position) = *target else { continue };
            let column = &schema.columns[position];
            let reject = |value: Option<String>, reason: String| Rejection {
                line,
                column: Some(column.name.clone()),
                value,
                reason,
            };
            let raw = if self.nulls.iter().any(|n| n == field) {
                None
            } else {
                match std::str::from_utf8(field) {
                    Ok(text) => Some(text),
                    Err(e) => {
                        let lossy = String::from_utf8_lossy(field);
                        errors.push(reject(
                            Some(shorten(&lossy)),
                            format!("invalid UTF-8 at byte {} of the field", e.valid_up_to()),
                        ));
                        continue;
                    }
                }
            };
            if raw.is_none() && schema.is_key(position) {
                errors.push(reject(None, "a key column needs a value".into()));
                continue;
            }
            match check_value(column, raw) {
                Ok(cell) => row[position] = cell,
                Err(reason) => errors.push(reject(raw.map(shorten), reason)),
            }
        }
        if errors.is_empty() {
            Record::Valid(row)
        } else {
            Record::Invalid(errors)
        }
    }

    fn ragged(&self, line: u64, last_line: u64) -> Rejection {
        let mut reason = format!(
            "expected {} fields, found {}",
            self.mapping.len(),
            self.record.len()
        );
        if last_line > line {
            reason.push_str(&format!(
                " (the record spans lines {line}–{last_line}: is a quote left open?)"
            ));
        }
        Rejection {
            line,
            column: None,
            value: None,
            reason,
        }
    }
}

fn read_record<R: Read>(
    reader: &mut csv::Reader<R>,
    record: &mut ByteRecord,
) -> Result<bool, ReadError> {
    reader
        .read_byte_record(record)
        .map_err(|e| match e.into_kind() {
            csv::ErrorKind::Io(io) => ReadError::Io(io),
            other => ReadError::Io(std::io::Error::other(format!("{other:?}"))),
        })
}

/// Removes a UTF-8 byte order mark from the first field.
fn strip_bom(record: &mut ByteRecord) {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    if record.get(0).is_some_and(|f| f.starts_with(BOM)) {
        let fields: Vec<Vec<u8>> = record
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if i == 0 {
                    f[BOM.len()..].to_vec()
                } else {
                    f.to_vec()
                }
            })
            .collect();
        let position = record.position().cloned();
        *record = ByteRecord::from(fields);
        record.set_position(position);
    }
}
