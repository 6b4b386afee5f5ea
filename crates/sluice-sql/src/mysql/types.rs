//! MySQL/MariaDB column metadata to Sluice column types, and decoding of
//! text-protocol values into batch cells.

use super::text;
use crate::batch::{BatchBuilder, Cell};
use crate::types::ColumnType;
use crate::SqlError;
use arrow_schema::{Schema, SchemaRef};
use mysql_async::consts::{ColumnFlags, ColumnType as My};
use mysql_async::{Column, Value};
use std::sync::Arc;

/// The `binary` character set: the column holds bytes, not text.
const BINARY_CHARSET: u16 = 63;

/// How one column's text values are read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Decoder {
    Int,
    UInt,
    Float,
    Decimal(i8),
    Raw,
    Date,
    Time,
    DateTime,
    Bits,
}

pub(super) fn map_columns(
    columns: &[Column],
) -> Result<(SchemaRef, Vec<ColumnType>, Vec<Decoder>), SqlError> {
    let mut fields = Vec::with_capacity(columns.len());
    let mut types = Vec::with_capacity(columns.len());
    let mut decoders = Vec::with_capacity(columns.len());
    for column in columns {
        let name = column.name_str().into_owned();
        let db_type = type_name(column.column_type());
        let (ty, decoder) = map_type(column).ok_or_else(|| SqlError::UnsupportedType {
            column: name.clone(),
            db_type: db_type.clone(),
            cast_to: "CHAR",
        })?;
        fields.push(ty.field(&name, &db_type));
        types.push(ty);
        decoders.push(decoder);
    }
    Ok((Arc::new(Schema::new(fields)), types, decoders))
}

/// `MYSQL_TYPE_NEWDECIMAL` is shown as `newdecimal`.
fn type_name(ty: My) -> String {
    format!("{ty:?}")
        .trim_start_matches("MYSQL_TYPE_")
        .to_lowercase()
}

fn map_type(column: &Column) -> Option<(ColumnType, Decoder)> {
    let unsigned = column.flags().contains(ColumnFlags::UNSIGNED_FLAG);
    let int = |signed: ColumnType, unsigned_ty: ColumnType| {
        if unsigned {
            (unsigned_ty, Decoder::Int)
        } else {
            (signed, Decoder::Int)
        }
    };
    let bytes = if column.character_set() == BINARY_CHARSET {
        ColumnType::Binary
    } else {
        ColumnType::Text
    };
    Some(match column.column_type() {
        My::MYSQL_TYPE_TINY => int(ColumnType::Int8, ColumnType::UInt8),
        My::MYSQL_TYPE_SHORT => int(ColumnType::Int16, ColumnType::UInt16),
        My::MYSQL_TYPE_YEAR => (ColumnType::Int16, Decoder::Int),
        My::MYSQL_TYPE_INT24 | My::MYSQL_TYPE_LONG => int(ColumnType::Int32, ColumnType::UInt32),
        My::MYSQL_TYPE_LONGLONG if unsigned => (ColumnType::UInt64, Decoder::UInt),
        My::MYSQL_TYPE_LONGLONG => (ColumnType::Int64, Decoder::Int),
        My::MYSQL_TYPE_FLOAT => (ColumnType::Float32, Decoder::Float),
        My::MYSQL_TYPE_DOUBLE => (ColumnType::Float64, Decoder::Float),
        My::MYSQL_TYPE_DECIMAL | My::MYSQL_TYPE_NEWDECIMAL => {
            let scale = u32::from(column.decimals());
            let precision = column.column_length() - u32::from(scale > 0) - u32::from(!unsigned);
            match ColumnType::decimal(precision, scale) {
                Some(ty) => (ty, Decoder::Decimal(scale as i8)),
                None => (ColumnType::Text, Decoder::Raw),
            }
        }
        My::MYSQL_TYPE_DATE | My::MYSQL_TYPE_NEWDATE => (ColumnType::Date, Decoder::Date),
        My::MYSQL_TYPE_TIME | My::MYSQL_TYPE_TIME2 => (ColumnType::Time, Decoder::Time),
        My::MYSQL_TYPE_DATETIME | My::MYSQL_TYPE_DATETIME2 => {
            (ColumnType::Timestamp, Decoder::DateTime)
        }
        // Sessions run with time_zone '+00:00', so TIMESTAMP values are UTC.
        My::MYSQL_TYPE_TIMESTAMP | My::MYSQL_TYPE_TIMESTAMP2 => {
            (ColumnType::TimestampUtc, Decoder::DateTime)
        }
        My::MYSQL_TYPE_JSON => (ColumnType::Json, Decoder::Raw),
        My::MYSQL_TYPE_VARCHAR
        | My::MYSQL_TYPE_VAR_STRING
        | My::MYSQL_TYPE_STRING
        | My::MYSQL_TYPE_ENUM
        | My::MYSQL_TYPE_SET
        | My::MYSQL_TYPE_TINY_BLOB
        | My::MYSQL_TYPE_MEDIUM_BLOB
        | My::MYSQL_TYPE_LONG_BLOB
        | My::MYSQL_TYPE_BLOB => (bytes, Decoder::Raw),
        My::MYSQL_TYPE_NULL => (ColumnType::Text, Decoder::Raw),
        My::MYSQL_TYPE_BIT => (ColumnType::UInt64, Decoder::Bits),
        _ => return None,
    })
}

/// Decodes one text-protocol value into the batch.
pub(super) fn decode(
    decoder: Decoder,
    value: Option<&Value>,
    index: usize,
    batch: &mut BatchBuilder,
) -> Result<(), SqlError> {
    let bytes = match value {
        None | Some(Value::NULL) => return batch.push(index, Cell::Null),
        Some(Value::Bytes(bytes)) => bytes.as_slice(),
        Some(other) => {
            return Err(bad(batch, index, format!("unexpected value {other:?}")));
        }
    };
    let cell = match decoder {
        Decoder::Int => text::int(bytes).map(Cell::Int),
        Decoder::UInt => text::uint(bytes).map(Cell::UInt),
        Decoder::Float => text::float(bytes).map(Cell::Float),
        Decoder::Decimal(scale) => text::decimal(bytes, scale).map(Cell::Decimal),
        Decoder::Raw => Ok(Cell::Bytes(bytes)),
        Decoder::Date => text::date(bytes).map(Cell::Days),
        Decoder::Time => text::time(bytes).map(Cell::Micros),
        Decoder::DateTime => text::datetime(bytes).map(Cell::Micros),
        Decoder::Bits => text::bits(bytes).map(Cell::UInt),
    };
    match cell {
        Ok(cell) => batch.push(index, cell),
        Err(reason) => Err(bad(batch, index, reason)),
    }
}

fn bad(batch: &BatchBuilder, index: usize, reason: String) -> SqlError {
    SqlError::Value {
        row: batch.row_number(),
        column: batch.schema().field(index).name().clone(),
        reason,
    }
}
