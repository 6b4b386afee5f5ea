//! CSV as RFC 4180 writes it: a header row of column names, fields separated
//! by commas, rows ended by `\n`, a field quoted (quotes doubled) when it
//! holds a comma, a quote or a line break. A null is an empty field; an
//! empty string is `""`, so the two stay apart.

use super::sink::Sink;
use super::text::{Style, View};
use super::{Encoder, ExportError};
use arrow_array::RecordBatch;
use arrow_schema::Schema;
use std::io::Write;

pub(super) struct CsvEncoder {
    out: Sink,
    buffer: Vec<u8>,
}

impl CsvEncoder {
    pub fn new(mut out: Sink, schema: &Schema) -> std::io::Result<Self> {
        let mut buffer = Vec::with_capacity(1 << 16);
        for (i, field) in schema.fields().iter().enumerate() {
            if i > 0 {
                buffer.push(b',');
            }
            field_text(field.name(), &mut buffer);
        }
        buffer.push(b'\n');
        out.write_all(&buffer)?;
        buffer.clear();
        Ok(CsvEncoder { out, buffer })
    }
}

/// Writes `text` as a field, quoted only when it must be.
fn field_text(text: &str, out: &mut Vec<u8>) {
    let special = text.is_empty()
        || text
            .bytes()
            .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if !special {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    out.push(b'"');
    for b in text.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

impl Encoder for CsvEncoder {
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        let schema = batch.schema();
        let views: Vec<View<'_>> = batch
            .columns()
            .iter()
            .zip(schema.fields())
            .map(|(array, field)| View::of(array, field))
            .collect();
        for row in 0..batch.num_rows() {
            for (i, view) in views.iter().enumerate() {
                if i > 0 {
                    self.buffer.push(b',');
                }
                if view.is_null(row) {
                    continue;
                }
                match view.str_value(row) {
                    Some(text) => field_text(text, &mut self.buffer),
                    None => view.write(row, Style::Csv, &mut self.buffer),
                }
            }
            self.buffer.push(b'\n');
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
