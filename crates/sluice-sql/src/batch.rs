//! Builds Arrow record batches from decoded values, bounded in rows and in
//! bytes so that a result of any size streams through a fixed amount of
//! memory. Backends decode each database value into a [`Cell`] and push it;
//! the builder checks it fits its column's type.

use crate::types::ColumnType;
use crate::SqlError;
use arrow_array::builder::*;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use std::sync::Arc;

/// Most rows in one batch.
pub const BATCH_ROWS: usize = 8192;
/// A batch is sent once its values take about this many bytes.
pub const BATCH_BYTES: usize = 8 << 20;

/// One decoded database value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    /// An unscaled decimal: the column's scale applies.
    Decimal(i128),
    Str(&'a str),
    Bytes(&'a [u8]),
    /// Days since 1970-01-01.
    Days(i32),
    /// Microseconds (since midnight or since the epoch, by column type).
    Micros(i64),
}

/// Builds the batches of one result.
pub struct BatchBuilder {
    schema: SchemaRef,
    types: Vec<ColumnType>,
    columns: Vec<Column>,
    rows: usize,
    bytes: usize,
    /// Rows in the batches already taken.
    done: u64,
}

impl BatchBuilder {
    pub fn new(schema: SchemaRef, types: Vec<ColumnType>) -> BatchBuilder {
        let columns = types.iter().map(|t| Column::new(*t)).collect();
        BatchBuilder {
            schema,
            types,
            columns,
            rows: 0,
            bytes: 0,
            done: 0,
        }
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The 1-based number of the row being built.
    pub fn row_number(&self) -> u64 {
        self.done + self.rows as u64 + 1
    }

    /// Appends a value to column `index` of the current row.
    pub fn push(&mut self, index: usize, cell: Cell<'_>) -> Result<(), SqlError> {
        match self.columns[index].append(self.types[index], cell) {
            Ok(bytes) => {
                self.bytes += bytes;
                Ok(())
            }
            Err(reason) => Err(SqlError::Value {
                row: self.row_number(),
                column: self.schema.field(index).name().clone(),
                reason,
            }),
        }
    }

    /// Ends the current row; true when the batch is full and should be taken.
    pub fn end_row(&mut self) -> bool {
        self.rows += 1;
        self.rows >= BATCH_ROWS || self.bytes >= BATCH_BYTES
    }

    /// The rows built so far as a batch (`None` when there are none).
    pub fn take(&mut self) -> Result<Option<RecordBatch>, SqlError> {
        if self.rows == 0 {
            return Ok(None);
        }
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(Column::finish).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| SqlError::Interrupted(format!("cannot assemble a batch: {e}")))?;
        self.done += self.rows as u64;
        self.rows = 0;
        self.bytes = 0;
        Ok(Some(batch))
    }
}

enum Column {
    Boolean(BooleanBuilder),
    Int8(Int8Builder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    UInt8(UInt8Builder),
    UInt16(UInt16Builder),
    UInt32(UInt32Builder),
    UInt64(UInt64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Decimal(Decimal128Builder, u8, i8),
    Text(StringBuilder),
    Binary(BinaryBuilder),
    Date(Date32Builder),
    Time(Time64MicrosecondBuilder),
    Timestamp(TimestampMicrosecondBuilder),
}

fn fits<T: TryFrom<i64>>(v: i64) -> Result<T, String> {
    T::try_from(v).map_err(|_| format!("{v} is out of range for the column's type"))
}

fn fits_u<T: TryFrom<u64>>(v: u64) -> Result<T, String> {
    T::try_from(v).map_err(|_| format!("{v} is out of range for the column's type"))
}

/// Appends a primitive value, or null.
macro_rules! prim {
    ($b:expr, $v:expr) => {{
        match $v {
            Some(v) => $b.append_value(v),
            None => $b.append_null(),
        }
        Ok(8)
    }};
}

impl Column {
    fn new(ty: ColumnType) -> Column {
        let n = BATCH_ROWS;
        match ty {
            ColumnType::Boolean => Column::Boolean(BooleanBuilder::with_capacity(n)),
            ColumnType::Int8 => Column::Int8(Int8Builder::with_capacity(n)),
            ColumnType::Int16 => Column::Int16(Int16Builder::with_capacity(n)),
            ColumnType::Int32 => Column::Int32(Int32Builder::with_capacity(n)),
            ColumnType::Int64 => Column::Int64(Int64Builder::with_capacity(n)),
            ColumnType::UInt8 => Column::UInt8(UInt8Builder::with_capacity(n)),
            ColumnType::UInt16 => Column::UInt16(UInt16Builder::with_capacity(n)),
            ColumnType::UInt32 => Column::UInt32(UInt32Builder::with_capacity(n)),
            ColumnType::UInt64 => Column::UInt64(UInt64Builder::with_capacity(n)),
            ColumnType::Float32 => Column::Float32(Float32Builder::with_capacity(n)),
            ColumnType::Float64 => Column::Float64(Float64Builder::with_capacity(n)),
            ColumnType::Decimal { precision, scale } => Column::Decimal(
                Decimal128Builder::with_capacity(n)
                    .with_precision_and_scale(precision, scale)
                    .expect("validated by ColumnType::decimal"),
                precision,
                scale,
            ),
            ColumnType::Text | ColumnType::Json => {
                Column::Text(StringBuilder::with_capacity(n, n * 16))
            }
            ColumnType::Binary => Column::Binary(BinaryBuilder::with_capacity(n, n * 16)),
            ColumnType::Date => Column::Date(Date32Builder::with_capacity(n)),
            ColumnType::Time => Column::Time(Time64MicrosecondBuilder::with_capacity(n)),
            ColumnType::Timestamp => {
                Column::Timestamp(TimestampMicrosecondBuilder::with_capacity(n))
            }
            ColumnType::TimestampUtc => Column::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC"),
            ),
        }
    }

    /// Appends `cell`; returns roughly how many bytes it took.
    fn append(&mut self, ty: ColumnType, cell: Cell<'_>) -> Result<usize, String> {
        use Cell::*;
        if cell == Null {
            self.append_null();
            return Ok(1);
        }
        match (self, cell) {
            (Column::Boolean(b), Bool(v)) => prim!(b, Some(v)),
            (Column::Boolean(b), Int(v)) => prim!(b, Some(v != 0)),
            (Column::Int8(b), Int(v)) => prim!(b, Some(fits::<i8>(v)?)),
            (Column::Int16(b), Int(v)) => prim!(b, Some(fits::<i16>(v)?)),
            (Column::Int32(b), Int(v)) => prim!(b, Some(fits::<i32>(v)?)),
            (Column::Int64(b), Int(v)) => prim!(b, Some(v)),
            (Column::UInt8(b), Int(v)) => prim!(b, Some(fits::<u8>(v)?)),
            (Column::UInt16(b), Int(v)) => prim!(b, Some(fits::<u16>(v)?)),
            (Column::UInt32(b), Int(v)) => prim!(b, Some(fits::<u32>(v)?)),
            (Column::UInt64(b), Int(v)) => prim!(b, Some(fits::<u64>(v)?)),
            (Column::UInt64(b), UInt(v)) => prim!(b, Some(v)),
            (Column::Int64(b), UInt(v)) => prim!(b, Some(fits_u::<i64>(v)?)),
            (Column::Float32(b), Float(v)) => prim!(b, Some(v as f32)),
            (Column::Float64(b), Float(v)) => prim!(b, Some(v)),
            (Column::Float64(b), Int(v)) => prim!(b, Some(v as f64)),
            (Column::Decimal(b, precision, _), Decimal(v)) => {
                if v.unsigned_abs() >= 10u128.pow(u32::from(*precision)) {
                    return Err(format!(
                        "the decimal does not fit {precision} digits (its declared precision)"
                    ));
                }
                prim!(b, Some(v))
            }
            (Column::Decimal(b, precision, scale), Int(v)) => {
                let scaled = i128::from(v) * 10i128.pow(*scale as u32);
                if scaled.unsigned_abs() >= 10u128.pow(u32::from(*precision)) {
                    return Err(format!("{v} does not fit the column's {precision} digits"));
                }
                prim!(b, Some(scaled))
            }
            (Column::Text(b), Str(v)) => {
                b.append_value(v);
                Ok(v.len() + 4)
            }
            (Column::Text(b), Bytes(v)) => {
                let text = std::str::from_utf8(v).map_err(|e| {
                    format!("the text is not valid UTF-8 (byte {})", e.valid_up_to())
                })?;
                b.append_value(text);
                Ok(v.len() + 4)
            }
            (Column::Text(b), Int(v)) => {
                b.append_value(v.to_string());
                Ok(12)
            }
            (Column::Text(b), Float(v)) => {
                b.append_value(v.to_string());
                Ok(16)
            }
            (Column::Binary(b), Bytes(v)) => {
                b.append_value(v);
                Ok(v.len() + 4)
            }
            (Column::Binary(b), Str(v)) => {
                b.append_value(v.as_bytes());
                Ok(v.len() + 4)
            }
            (Column::Date(b), Days(v)) => prim!(b, Some(v)),
            (Column::Time(b), Micros(v)) => {
                if !(0..=crate::types::DAY_MICROS).contains(&v) {
                    return Err("the time is outside 00:00:00–24:00:00".into());
                }
                prim!(b, Some(v))
            }
            (Column::Timestamp(b), Micros(v)) => prim!(b, Some(v)),
            (_, cell) => Err(format!(
                "a {} value cannot be stored in a column of type {ty:?}; CAST it in the query",
                cell.kind()
            )),
        }
    }

    fn append_null(&mut self) {
        match self {
            Column::Boolean(b) => b.append_null(),
            Column::Int8(b) => b.append_null(),
            Column::Int16(b) => b.append_null(),
            Column::Int32(b) => b.append_null(),
            Column::Int64(b) => b.append_null(),
            Column::UInt8(b) => b.append_null(),
            Column::UInt16(b) => b.append_null(),
            Column::UInt32(b) => b.append_null(),
            Column::UInt64(b) => b.append_null(),
            Column::Float32(b) => b.append_null(),
            Column::Float64(b) => b.append_null(),
            Column::Decimal(b, ..) => b.append_null(),
            Column::Text(b) => b.append_null(),
            Column::Binary(b) => b.append_null(),
            Column::Date(b) => b.append_null(),
            Column::Time(b) => b.append_null(),
            Column::Timestamp(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Column::Boolean(b) => Arc::new(b.finish()),
            Column::Int8(b) => Arc::new(b.finish()),
            Column::Int16(b) => Arc::new(b.finish()),
            Column::Int32(b) => Arc::new(b.finish()),
            Column::Int64(b) => Arc::new(b.finish()),
            Column::UInt8(b) => Arc::new(b.finish()),
            Column::UInt16(b) => Arc::new(b.finish()),
            Column::UInt32(b) => Arc::new(b.finish()),
            Column::UInt64(b) => Arc::new(b.finish()),
            Column::Float32(b) => Arc::new(b.finish()),
            Column::Float64(b) => Arc::new(b.finish()),
            Column::Decimal(b, ..) => Arc::new(b.finish()),
            Column::Text(b) => Arc::new(b.finish()),
            Column::Binary(b) => Arc::new(b.finish()),
            Column::Date(b) => Arc::new(b.finish()),
            Column::Time(b) => Arc::new(b.finish()),
            Column::Timestamp(b) => Arc::new(b.finish()),
        }
    }
}

impl Cell<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Cell::Null => "null",
            Cell::Bool(_) => "boolean",
            Cell::Int(_) => "integer",
            Cell::UInt(_) => "unsigned integer",
            Cell::Float(_) => "floating-point",
            Cell::Decimal(_) => "decimal",
            Cell::Str(_) => "text",
            Cell::Bytes(_) => "binary",
            Cell::Days(_) => "date",
            Cell::Micros(_) => "time",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, Decimal128Array, Int16Array, StringArray};
    use arrow_schema::Schema;

    fn builder(types: &[ColumnType]) -> BatchBuilder {
        let fields: Vec<_> = types
            .iter()
            .enumerate()
            .map(|(i, t)| t.field(&format!("c{i}"), "t"))
            .collect();
        BatchBuilder::new(Arc::new(Schema::new(fields)), types.to_vec())
    }

    #[test]
    fn values_are_checked_against_their_column() {
        let mut b = builder(&[
            ColumnType::Int16,
            ColumnType::Text,
            ColumnType::decimal(5, 2).unwrap(),
        ]);
        b.push(0, Cell::Int(7)).unwrap();
        b.push(1, Cell::Bytes("é".as_bytes())).unwrap();
        b.push(2, Cell::Decimal(-12_345)).unwrap();
        b.end_row();
        let e = b.push(0, Cell::Int(70_000)).unwrap_err().to_string();
        assert!(
            e.starts_with("row 2, column `c0`: 70000 is out of range"),
            "{e}"
        );
        let e = b.push(1, Cell::Bytes(&[0xff])).unwrap_err().to_string();
        assert!(e.contains("not valid UTF-8"), "{e}");
        let e = b.push(2, Cell::Decimal(100_000)).unwrap_err().to_string();
        assert!(e.contains("does not fit 5 digits"), "{e}");
        let e = b.push(0, Cell::Str("x")).unwrap_err().to_string();
        assert!(e.contains("CAST it"), "{e}");
        let batch = b.take().unwrap().unwrap();
        assert_eq!(batch.num_rows(), 1);
        let ints = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int16Array>()
            .unwrap();
        assert_eq!(ints.value(0), 7);
        let text = batch
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(text.value(0), "é");
        let dec = batch
            .column(2)
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap();
        assert_eq!(dec.value_as_string(0), "-123.45");
        assert!(b.take().unwrap().is_none());
    }

    #[test]
    fn batches_are_bounded_in_rows() {
        let mut b = builder(&[ColumnType::Int64]);
        let mut full_at = None;
        for i in 0..BATCH_ROWS + 5 {
            b.push(0, Cell::Int(i as i64)).unwrap();
            if b.end_row() && full_at.is_none() {
                full_at = Some(i + 1);
                assert_eq!(b.take().unwrap().unwrap().num_rows(), BATCH_ROWS);
            }
        }
        assert_eq!(full_at, Some(BATCH_ROWS));
        assert_eq!(b.row_number(), BATCH_ROWS as u64 + 6);
        assert_eq!(b.take().unwrap().unwrap().num_rows(), 5);
    }
}
