//! The column types every warehouse maps its own types to, and their Arrow
//! form. Each backend decides, from the result's column metadata and before
//! any row is read, which [`ColumnType`] a column gets, or refuses it with
//! [`crate::SqlError::UnsupportedType`]; every output format then knows how
//! to write each of these types and nothing else.

use arrow_schema::{DataType, Field, TimeUnit};
use std::collections::HashMap;

/// Field metadata: the database's own name for the column's type.
pub const DB_TYPE_KEY: &str = "sluice.db_type";
/// Field metadata: `true` when a text column holds JSON documents.
pub const JSON_KEY: &str = "sluice.json";

/// A result column's type, as mapped from the database's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Boolean,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Float32,
    Float64,
    /// Exact decimal, at most 38 digits.
    Decimal {
        precision: u8,
        scale: i8,
    },
    Text,
    /// Text holding JSON documents.
    Json,
    Binary,
    /// Days since 1970-01-01.
    Date,
    /// Microseconds since midnight.
    Time,
    /// Microseconds since 1970-01-01T00:00, no time zone.
    Timestamp,
    /// Microseconds since 1970-01-01T00:00Z.
    TimestampUtc,
}

impl ColumnType {
    /// The Arrow type of the column.
    pub fn data_type(self) -> DataType {
        match self {
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Int8 => DataType::Int8,
            ColumnType::Int16 => DataType::Int16,
            ColumnType::Int32 => DataType::Int32,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::UInt8 => DataType::UInt8,
            ColumnType::UInt16 => DataType::UInt16,
            ColumnType::UInt32 => DataType::UInt32,
            ColumnType::UInt64 => DataType::UInt64,
            ColumnType::Float32 => DataType::Float32,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Decimal { precision, scale } => DataType::Decimal128(precision, scale),
            ColumnType::Text | ColumnType::Json => DataType::Utf8,
            ColumnType::Binary => DataType::Binary,
            ColumnType::Date => DataType::Date32,
            ColumnType::Time => DataType::Time64(TimeUnit::Microsecond),
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            ColumnType::TimestampUtc => {
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            }
        }
    }

    /// The Arrow field of a column named `name` whose database type is `db_type`.
    pub fn field(self, name: &str, db_type: &str) -> Field {
        let mut metadata = HashMap::from([(DB_TYPE_KEY.to_string(), db_type.to_string())]);
        if self == ColumnType::Json {
            metadata.insert(JSON_KEY.to_string(), "true".to_string());
        }
        Field::new(name, self.data_type(), true).with_metadata(metadata)
    }

    /// A decimal type when `precision` fits Arrow's 128-bit decimals.
    pub fn decimal(precision: u32, scale: u32) -> Option<ColumnType> {
        (1..=38)
            .contains(&precision)
            .then_some(())
            .filter(|_| scale <= precision)
            .map(|_| ColumnType::Decimal {
                precision: precision as u8,
                scale: scale as i8,
            })
    }
}

/// Microseconds in a day.
pub const DAY_MICROS: i64 = 86_400_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01: (year, month, day).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 1, 1), 10_957);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        for days in [-800_000, -1, 0, 59, 60, 10_957, 19_844, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(19_844), (2024, 5, 1));
    }

    #[test]
    fn decimals_fit_128_bits_or_are_refused() {
        assert_eq!(
            ColumnType::decimal(10, 2),
            Some(ColumnType::Decimal {
                precision: 10,
                scale: 2
            })
        );
        assert_eq!(ColumnType::decimal(39, 2), None);
        assert_eq!(ColumnType::decimal(0, 0), None);
    }

    #[test]
    fn fields_carry_the_database_type() {
        let f = ColumnType::Json.field("doc", "jsonb");
        assert_eq!(f.data_type(), &DataType::Utf8);
        assert_eq!(f.metadata()[DB_TYPE_KEY], "jsonb");
        assert_eq!(f.metadata()[JSON_KEY], "true");
    }
}
