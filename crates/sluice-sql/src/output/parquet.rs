//! Parquet through the `parquet` crate's Arrow writer: column types as the
//! database declared them (decimals stay decimals, timestamps keep their
//! time zone), the chosen codec applied to column chunks. Row groups are
//! flushed at 128 Ki rows or 64 MiB, which bounds the writer's memory.

use super::sink::Sink;
use super::{Compression, Encoder, ExportError, OutputSpec};
use arrow_array::RecordBatch;
use arrow_schema::Schema;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as Codec, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::sync::Arc;

const ROW_GROUP_ROWS: usize = 128 * 1024;
const ROW_GROUP_BYTES: usize = 64 << 20;

pub(super) struct ParquetEncoder {
    writer: ArrowWriter<Sink>,
}

fn encode_error(e: impl std::fmt::Display) -> ExportError {
    ExportError::Encode {
        format: "parquet",
        reason: e.to_string(),
    }
}

impl ParquetEncoder {
    pub fn new(sink: Sink, schema: &Schema, spec: OutputSpec) -> Result<Self, ExportError> {
        let codec = match spec.compression {
            Compression::None => Codec::UNCOMPRESSED,
            Compression::Gzip => Codec::GZIP(GzipLevel::default()),
            Compression::Zstd => Codec::ZSTD(ZstdLevel::default()),
        };
        let properties = WriterProperties::builder()
            .set_compression(codec)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(format!("sluice {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = ArrowWriter::try_new(sink, Arc::new(schema.clone()), Some(properties))
            .map_err(encode_error)?;
        Ok(ParquetEncoder { writer })
    }
}

impl Encoder for ParquetEncoder {
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        self.writer.write(batch).map_err(encode_error)?;
        if self.writer.in_progress_size() >= ROW_GROUP_BYTES {
            self.writer.flush().map_err(encode_error)?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Sink, ExportError> {
        self.writer.into_inner().map_err(encode_error)
    }
}
