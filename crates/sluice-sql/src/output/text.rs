//! Values as text, the same way in CSV and JSON Lines whatever database
//! they came from: ISO 8601 dates and times (`Z` for UTC timestamps), exact
//! decimals, shortest round-trip floats, binary as lowercase hex.
//!
//! A [`View`] downcasts a column once per batch, so writing a value is one
//! branch and a few bytes, not a dynamic lookup.

use crate::types::{civil_from_days, DAY_MICROS, JSON_KEY};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, PrimitiveArray};
use arrow_schema::{DataType, Field, TimeUnit};

/// One column of a batch, downcast.
pub(crate) enum View<'a> {
    Bool(&'a arrow_array::BooleanArray),
    Int(IntView<'a>),
    Float32(&'a PrimitiveArray<Float32Type>),
    Float64(&'a PrimitiveArray<Float64Type>),
    Decimal(&'a PrimitiveArray<Decimal128Type>, i8),
    Text(&'a arrow_array::StringArray),
    /// Text holding JSON documents.
    Json(&'a arrow_array::StringArray),
    Binary(&'a arrow_array::BinaryArray),
    Date(&'a PrimitiveArray<Date32Type>),
    Time(&'a PrimitiveArray<Time64MicrosecondType>),
    Timestamp(&'a PrimitiveArray<TimestampMicrosecondType>, bool),
}

pub(crate) enum IntView<'a> {
    I8(&'a PrimitiveArray<Int8Type>),
    I16(&'a PrimitiveArray<Int16Type>),
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    U8(&'a PrimitiveArray<UInt8Type>),
    U16(&'a PrimitiveArray<UInt16Type>),
    U32(&'a PrimitiveArray<UInt32Type>),
    U64(&'a PrimitiveArray<UInt64Type>),
}

/// How a value that is not a plain number is written.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Style {
    Csv,
    Json,
}

impl<'a> View<'a> {
    /// The view of a column; every type [`crate::ColumnType`] maps to is known.
    pub fn of(array: &'a ArrayRef, field: &Field) -> View<'a> {
        let json = field.metadata().get(JSON_KEY).is_some_and(|v| v == "true");
        match array.data_type() {
            DataType::Boolean => View::Bool(array.as_boolean()),
            DataType::Int8 => View::Int(IntView::I8(array.as_primitive())),
            DataType::Int16 => View::Int(IntView::I16(array.as_primitive())),
            DataType::Int32 => View::Int(IntView::I32(array.as_primitive())),
            DataType::Int64 => View::Int(IntView::I64(array.as_primitive())),
            DataType::UInt8 => View::Int(IntView::U8(array.as_primitive())),
            DataType::UInt16 => View::Int(IntView::U16(array.as_primitive())),
            DataType::UInt32 => View::Int(IntView::U32(array.as_primitive())),
            DataType::UInt64 => View::Int(IntView::U64(array.as_primitive())),
            DataType::Float32 => View::Float32(array.as_primitive()),
            DataType::Float64 => View::Float64(array.as_primitive()),
            DataType::Decimal128(_, scale) => View::Decimal(array.as_primitive(), *scale),
            DataType::Utf8 if json => View::Json(array.as_string()),
            DataType::Utf8 => View::Text(array.as_string()),
            DataType::Binary => View::Binary(array.as_binary()),
            DataType::Date32 => View::Date(array.as_primitive()),
            DataType::Time64(TimeUnit::Microsecond) => View::Time(array.as_primitive()),
            DataType::Timestamp(TimeUnit::Microsecond, tz) => {
                View::Timestamp(array.as_primitive(), tz.is_some())
            }
            other => unreachable!("no column type maps to {other}"),
        }
    }

    pub fn is_null(&self, row: usize) -> bool {
        match self {
            View::Bool(a) => a.is_null(row),
            View::Int(i) => match i {
                IntView::I8(a) => a.is_null(row),
                IntView::I16(a) => a.is_null(row),
                IntView::I32(a) => a.is_null(row),
                IntView::I64(a) => a.is_null(row),
                IntView::U8(a) => a.is_null(row),
                IntView::U16(a) => a.is_null(row),
                IntView::U32(a) => a.is_null(row),
                IntView::U64(a) => a.is_null(row),
            },
            View::Float32(a) => a.is_null(row),
            View::Float64(a) => a.is_null(row),
            View::Decimal(a, _) => a.is_null(row),
            View::Text(a) | View::Json(a) => a.is_null(row),
            View::Binary(a) => a.is_null(row),
            View::Date(a) => a.is_null(row),
            View::Time(a) => a.is_null(row),
            View::Timestamp(a, _) => a.is_null(row),
        }
    }

    /// Writes the (non-null) value at `row`. Strings are written raw: the
    /// caller quotes them ([`View::is_string`]).
    pub fn write(&self, row: usize, style: Style, out: &mut Vec<u8>) {
        let mut ints = itoa::Buffer::new();
        match self {
            View::Bool(a) => out.extend_from_slice(if a.value(row) { b"true" } else { b"false" }),
            View::Int(i) => out.extend_from_slice(
                match i {
                    IntView::I8(a) => ints.format(a.value(row)),
                    IntView::I16(a) => ints.format(a.value(row)),
                    IntView::I32(a) => ints.format(a.value(row)),
                    IntView::I64(a) => ints.format(a.value(row)),
                    IntView::U8(a) => ints.format(a.value(row)),
                    IntView::U16(a) => ints.format(a.value(row)),
                    IntView::U32(a) => ints.format(a.value(row)),
                    IntView::U64(a) => ints.format(a.value(row)),
                }
                .as_bytes(),
            ),
            View::Float32(a) => float(f64::from(a.value(row)), style, out),
            View::Float64(a) => float(a.value(row), style, out),
            View::Decimal(a, scale) => decimal(a.value(row), *scale, out),
            View::Text(a) | View::Json(a) => out.extend_from_slice(a.value(row).as_bytes()),
            View::Binary(a) => hex(a.value(row), out),
            View::Date(a) => date(i64::from(a.value(row)), out),
            View::Time(a) => time(a.value(row), out),
            View::Timestamp(a, utc) => {
                let micros = a.value(row);
                date(micros.div_euclid(DAY_MICROS), out);
                out.push(b'T');
                time(micros.rem_euclid(DAY_MICROS), out);
                if *utc {
                    out.push(b'Z');
                }
            }
        }
    }

    /// Whether JSON writes the value as a string.
    pub fn is_string(&self) -> bool {
        matches!(
            self,
            View::Text(_) | View::Binary(_) | View::Date(_) | View::Time(_) | View::Timestamp(..)
        )
    }

    /// Whether the column holds JSON documents (embedded as they are in JSON Lines).
    pub fn is_json(&self) -> bool {
        matches!(self, View::Json(_))
    }

    /// The text of a string column's value (for quoting without copying).
    pub fn str_value(&self, row: usize) -> Option<&'a str> {
        match self {
            View::Text(a) | View::Json(a) => Some(a.value(row)),
            _ => None,
        }
    }
}

fn float(v: f64, style: Style, out: &mut Vec<u8>) {
    if v.is_finite() {
        let mut buffer = ryu::Buffer::new();
        out.extend_from_slice(buffer.format_finite(v).as_bytes());
    } else if style == Style::Json {
        out.extend_from_slice(b"null");
    } else if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v > 0.0 {
        out.extend_from_slice(b"Infinity");
    } else {
        out.extend_from_slice(b"-Infinity");
    }
}

/// An unscaled decimal with `scale` digits after the point.
pub(crate) fn decimal(value: i128, scale: i8, out: &mut Vec<u8>) {
    if value < 0 {
        out.push(b'-');
    }
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(value.unsigned_abs()).as_bytes();
    let scale = scale.max(0) as usize;
    if scale == 0 {
        out.extend_from_slice(digits);
        return;
    }
    if digits.len() <= scale {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', scale - digits.len()));
        out.extend_from_slice(digits);
    } else {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        out.extend_from_slice(whole);
        out.push(b'.');
        out.extend_from_slice(fraction);
    }
}

fn hex(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
    }
}

fn two(v: u32, out: &mut Vec<u8>) {
    out.push(b'0' + (v / 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

/// `YYYY-MM-DD` of a day number since 1970-01-01.
fn date(days: i64, out: &mut Vec<u8>) {
    let (year, month, day) = civil_from_days(days);
    if (0..=9999).contains(&year) {
        let y = year as u32;
        two(y / 100, out);
        two(y % 100, out);
    } else {
        out.extend_from_slice(format!("{year:+05}").as_bytes());
    }
    out.push(b'-');
    two(month, out);
    out.push(b'-');
    two(day, out);
}

/// `HH:MM:SS[.ffffff]` of microseconds since midnight.
fn time(micros: i64, out: &mut Vec<u8>) {
    let seconds = micros / 1_000_000;
    two((seconds / 3600) as u32, out);
    out.push(b':');
    two((seconds / 60 % 60) as u32, out);
    out.push(b':');
    two((seconds % 60) as u32, out);
    let fraction = micros % 1_000_000;
    if fraction != 0 {
        out.push(b'.');
        let mut buffer = itoa::Buffer::new();
        let digits = buffer.format(fraction);
        out.extend(std::iter::repeat_n(b'0', 6 - digits.len()));
        out.extend_from_slice(digits.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(text(|o| decimal(-12_345, 2, o)), "-123.45");
        assert_eq!(text(|o| decimal(5, 3, o)), "0.005");
        assert_eq!(text(|o| decimal(0, 2, o)), "0.00");
        assert_eq!(text(|o| decimal(42, 0, o)), "42");
    }

    #[test]
    fn dates_and_times_are_iso_8601() {
        assert_eq!(text(|o| date(19_844, o)), "2024-05-01");
        assert_eq!(text(|o| date(-719_529, o)), "-0001-12-31");
        assert_eq!(text(|o| time(3_723_000_001, o)), "01:02:03.000001");
        assert_eq!(text(|o| time(0, o)), "00:00:00");
        assert_eq!(text(|o| hex(&[0, 0xab], o)), "00ab");
    }

    #[test]
    fn non_finite_floats_depend_on_the_format() {
        assert_eq!(text(|o| float(f64::NAN, Style::Csv, o)), "NaN");
        assert_eq!(
            text(|o| float(f64::NEG_INFINITY, Style::Csv, o)),
            "-Infinity"
        );
        assert_eq!(text(|o| float(f64::INFINITY, Style::Json, o)), "null");
        assert_eq!(text(|o| float(0.1, Style::Json, o)), "0.1");
    }
}
