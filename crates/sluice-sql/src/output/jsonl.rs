//! JSON Lines: one JSON object per row, keys in column order. Text and
//! temporal values are strings, numbers are numbers (decimals exactly as
//! written), non-finite floats and SQL nulls are `null`, JSON columns are
//! embedded as documents rather than as strings.

use super::sink::Sink;
use super::text::{Style, View};
use super::{Encoder, ExportError};
use arrow_array::RecordBatch;
use arrow_schema::Schema;
use std::io::Write;

pub(super) struct JsonLinesEncoder {
    out: Sink,
    /// `"name":` of each column, escaped once.
    keys: Vec<Vec<u8>>,
    buffer: Vec<u8>,
    scratch: Vec<u8>,
}

impl JsonLinesEncoder {
    pub fn new(out: Sink, schema: &Schema) -> Self {
        let keys = schema
            .fields()
            .iter()
            .map(|f| {
                let mut key = Vec::new();
                string(f.name().as_bytes(), &mut key);
                key.push(b':');
                key
            })
            .collect();
        JsonLinesEncoder {
            out,
            keys,
            buffer: Vec::with_capacity(1 << 16),
            scratch: Vec::new(),
        }
    }
}

/// Writes `text` as a JSON string.
pub(super) fn string(text: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&text[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&text[start..]);
    out.push(b'"');
}

impl Encoder for JsonLinesEncoder {
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        let schema = batch.schema();
        let views: Vec<View<'_>> = batch
            .columns()
            .iter()
            .zip(schema.fields())
            .map(|(array, field)| View::of(array, field))
            .collect();
        for row in 0..batch.num_rows() {
            self.buffer.push(b'{');
            for (i, view) in views.iter().enumerate() {
                if i > 0 {
                    self.buffer.push(b',');
                }
                self.buffer.extend_from_slice(&self.keys[i]);
                if view.is_null(row) {
                    self.buffer.extend_from_slice(b"null");
                } else if view.is_json() {
                    view.write(row, Style::Json, &mut self.buffer);
                } else if view.is_string() {
                    self.scratch.clear();
                    view.write(row, Style::Json, &mut self.scratch);
                    string(&self.scratch, &mut self.buffer);
                } else {
                    view.write(row, Style::Json, &mut self.buffer);
                }
            }
            self.buffer.extend_from_slice(b"}\n");
            if self.buffer.len() >= 1 << 16 {
                self.out.write_all(&self.buffer)?;
                self.buffer.clear();
            }
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Sink, ExportError> {
        self.out.write_all(&self.buffer)?;
        Ok(self.out)
    }
}
