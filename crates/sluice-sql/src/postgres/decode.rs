//! PostgreSQL types to Sluice column types, and decoding of their binary
//! wire format straight into batch cells (no intermediate values).

use crate::batch::{BatchBuilder, Cell};
use crate::types::ColumnType;
use crate::SqlError;
use arrow_schema::{Schema, SchemaRef};
use std::sync::Arc;
use tokio_postgres::types::{FromSql, Kind, Type};
use tokio_postgres::{Column, Row};

/// Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// Days from 1970-01-01 to 2000-01-01.
const PG_EPOCH_DAYS: i32 = 10_957;

/// How one column's wire values are read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Decoder {
    Bool,
    Int2,
    Int4,
    Int8,
    Oid,
    Float4,
    Float8,
    /// `numeric(p, s)`: an exact decimal with scale `s`.
    Numeric(i8),
    /// `numeric` without a declared precision: its exact decimal text.
    NumericText,
    Text,
    /// The single-byte `"char"`.
    Char,
    Jsonb,
    Bytea,
    Date,
    Time,
    Timestamp,
    Uuid,
}

/// A value's raw bytes, whatever its type.
struct Raw<'a>(&'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// The schema and decoders of a result, or the first column that cannot be mapped.
pub(super) fn map_columns(
    columns: &[Column],
) -> Result<(SchemaRef, Vec<ColumnType>, Vec<Decoder>), SqlError> {
    let mut fields = Vec::with_capacity(columns.len());
    let mut types = Vec::with_capacity(columns.len());
    let mut decoders = Vec::with_capacity(columns.len());
    for column in columns {
        let (ty, decoder) = map_type(column.type_(), column.type_modifier()).ok_or_else(|| {
            SqlError::UnsupportedType {
                column: column.name().to_string(),
                db_type: column.type_().name().to_string(),
                cast_to: "text",
            }
        })?;
        fields.push(ty.field(column.name(), column.type_().name()));
        types.push(ty);
        decoders.push(decoder);
    }
    Ok((Arc::new(Schema::new(fields)), types, decoders))
}

fn map_type(ty: &Type, modifier: i32) -> Option<(ColumnType, Decoder)> {
    Some(match *ty {
        Type::BOOL => (ColumnType::Boolean, Decoder::Bool),
        Type::INT2 => (ColumnType::Int16, Decoder::Int2),
        Type::INT4 => (ColumnType::Int32, Decoder::Int4),
        Type::INT8 => (ColumnType::Int64, Decoder::Int8),
        Type::OID => (ColumnType::Int64, Decoder::Oid),
        Type::FLOAT4 => (ColumnType::Float32, Decoder::Float4),
        Type::FLOAT8 => (ColumnType::Float64, Decoder::Float8),
        Type::NUMERIC => numeric(modifier),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::XML | Type::UNKNOWN => {
            (ColumnType::Text, Decoder::Text)
        }
        Type::CHAR => (ColumnType::Text, Decoder::Char),
        Type::JSON => (ColumnType::Json, Decoder::Text),
        Type::JSONB => (ColumnType::Json, Decoder::Jsonb),
        Type::BYTEA => (ColumnType::Binary, Decoder::Bytea),
        Type::DATE => (ColumnType::Date, Decoder::Date),
        Type::TIME => (ColumnType::Time, Decoder::Time),
        Type::TIMESTAMP => (ColumnType::Timestamp, Decoder::Timestamp),
        Type::TIMESTAMPTZ => (ColumnType::TimestampUtc, Decoder::Timestamp),
        Type::UUID => (ColumnType::Text, Decoder::Uuid),
        _ => match ty.kind() {
            // An enum's binary form is its label; a domain's is its base type's.
            Kind::Enum(_) => (ColumnType::Text, Decoder::Text),
            Kind::Domain(base) => return map_type(base, modifier),
            _ if ty.name() == "citext" => (ColumnType::Text, Decoder::Text),
            _ => return None,
        },
    })
}

/// `numeric(p, s)` becomes a decimal when it fits 38 digits, else exact text.
fn numeric(modifier: i32) -> (ColumnType, Decoder) {
    if modifier >= 4 {
        let m = modifier - 4;
        let (precision, scale) = ((m >> 16) & 0xffff, m & 0xffff);
        if let Some(ty) = ColumnType::decimal(precision as u32, scale as u32) {
            return (ty, Decoder::Numeric(scale as i8));
        }
    }
    (ColumnType::Text, Decoder::NumericText)
}

/// Decodes column `index` of `row` into the batch.
pub(super) fn decode(
    decoder: Decoder,
    row: &Row,
    index: usize,
    batch: &mut BatchBuilder,
) -> Result<(), SqlError> {
    let raw: Option<Raw<'_>> = row.try_get(index).map_err(|e| SqlError::Value {
        row: batch.row_number(),
        column: row.columns()[index].name().to_string(),
        reason: e.to_string(),
    })?;
    let Some(Raw(bytes)) = raw else {
        return batch.push(index, Cell::Null);
    };
    let bad = |reason: String| SqlError::Value {
        row: batch.row_number(),
        column: row.columns()[index].name().to_string(),
        reason,
    };
    let mut text = [0u8; 36];
    let cell = match decoder {
        Decoder::Bool => Cell::Bool(bytes.first() == Some(&1)),
        Decoder::Int2 => Cell::Int(i16::from_be_bytes(fixed(bytes).map_err(bad)?).into()),
        Decoder::Int4 => Cell::Int(i32::from_be_bytes(fixed(bytes).map_err(bad)?).into()),
        Decoder::Int8 => Cell::Int(i64::from_be_bytes(fixed(bytes).map_err(bad)?)),
        Decoder::Oid => Cell::Int(u32::from_be_bytes(fixed(bytes).map_err(bad)?).into()),
        Decoder::Float4 => Cell::Float(f32::from_be_bytes(fixed(bytes).map_err(bad)?).into()),
        Decoder::Float8 => Cell::Float(f64::from_be_bytes(fixed(bytes).map_err(bad)?)),
        Decoder::Numeric(scale) => {
            Cell::Decimal(super::numeric::to_unscaled(bytes, scale).map_err(bad)?)
        }
        Decoder::NumericText => {
            let text = super::numeric::to_text(bytes).map_err(bad)?;
            return batch.push(index, Cell::Str(&text));
        }
        Decoder::Text | Decoder::Char => Cell::Bytes(bytes),
        Decoder::Jsonb => match bytes.split_first() {
            Some((1, json)) => Cell::Bytes(json),
            _ => return Err(bad("unknown jsonb binary version".into())),
        },
        Decoder::Bytea => Cell::Bytes(bytes),
        Decoder::Date => match i32::from_be_bytes(fixed(bytes).map_err(bad)?) {
            i32::MAX | i32::MIN => return Err(bad(infinite("date"))),
            days => Cell::Days(days + PG_EPOCH_DAYS),
        },
        Decoder::Time => Cell::Micros(i64::from_be_bytes(fixed(bytes).map_err(bad)?)),
        Decoder::Timestamp => match i64::from_be_bytes(fixed(bytes).map_err(bad)?) {
            i64::MAX | i64::MIN => return Err(bad(infinite("timestamp"))),
            micros => Cell::Micros(micros + PG_EPOCH_MICROS),
        },
        Decoder::Uuid => {
            let raw: [u8; 16] = fixed(bytes).map_err(bad)?;
            Cell::Str(format_uuid(&raw, &mut text))
        }
    };
    batch.push(index, cell)
}

fn infinite(kind: &str) -> String {
    format!("an infinite {kind} cannot be extracted; replace it in the query (e.g. with NULL)")
}

fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], String> {
    bytes
        .try_into()
        .map_err(|_| format!("expected {N} bytes on the wire, got {}", bytes.len()))
}

fn format_uuid<'a>(raw: &[u8; 16], out: &'a mut [u8; 36]) -> &'a str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut at = 0;
    for (i, byte) in raw.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out[at] = b'-';
            at += 1;
        }
        out[at] = HEX[(byte >> 4) as usize];
        out[at + 1] = HEX[(byte & 15) as usize];
        at += 2;
    }
    std::str::from_utf8(out).expect("hex digits are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_map_or_are_refused() {
        assert_eq!(map_type(&Type::INT8, -1).unwrap().0, ColumnType::Int64);
        assert_eq!(
            map_type(&Type::TIMESTAMPTZ, -1).unwrap().0,
            ColumnType::TimestampUtc
        );
        // numeric(12, 2) has the type modifier ((12 << 16) | 2) + 4
        let (ty, dec) = map_type(&Type::NUMERIC, ((12 << 16) | 2) + 4).unwrap();
        assert_eq!(
            ty,
            ColumnType::Decimal {
                precision: 12,
                scale: 2
            }
        );
        assert_eq!(dec, Decoder::Numeric(2));
        assert_eq!(
            map_type(&Type::NUMERIC, -1).unwrap().1,
            Decoder::NumericText
        );
        assert_eq!(
            map_type(&Type::NUMERIC, ((60 << 16) | 2) + 4).unwrap().1,
            Decoder::NumericText
        );
        assert!(map_type(&Type::POINT, -1).is_none());
        assert!(map_type(&Type::INT4_ARRAY, -1).is_none());
        assert!(map_type(&Type::INTERVAL, -1).is_none());
    }

    #[test]
    fn uuids_are_formatted() {
        let raw = [
            0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17,
            0x40, 0x00,
        ];
        let mut out = [0u8; 36];
        assert_eq!(
            format_uuid(&raw, &mut out),
            "123e4567-e89b-12d3-a456-426614174000"
        );
    }
}
