//! Values of MySQL's text protocol, parsed exactly: integers, decimals to
//! an unscaled integer of the column's scale, dates and times to days and
//! microseconds. Pure functions over bytes.

use crate::types::days_from_civil;

fn text(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|_| "the value is not valid UTF-8".to_string())
}

pub(super) fn int(bytes: &[u8]) -> Result<i64, String> {
    let t = text(bytes)?;
    t.parse().map_err(|_| format!("`{t}` is not an integer"))
}

pub(super) fn uint(bytes: &[u8]) -> Result<u64, String> {
    let t = text(bytes)?;
    t.parse()
        .map_err(|_| format!("`{t}` is not an unsigned integer"))
}

pub(super) fn float(bytes: &[u8]) -> Result<f64, String> {
    let t = text(bytes)?;
    t.parse().map_err(|_| format!("`{t}` is not a number"))
}

/// `-123.45` with scale 3 is -123450.
pub(super) fn decimal(bytes: &[u8], scale: i8) -> Result<i128, String> {
    let t = text(bytes)?;
    let bad = || format!("`{t}` is not a decimal of scale {scale}");
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
        || fraction.len() > scale.max(0) as usize
    {
        return Err(bad());
    }
    let mut value: i128 = 0;
    let padded = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(scale.max(0) as usize);
    for b in whole.bytes().chain(padded) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i128::from(b - b'0')))
            .ok_or_else(bad)?;
    }
    Ok(if negative { -value } else { value })
}

fn number(part: &str) -> Option<i64> {
    (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        .then(|| part.parse().ok())
        .flatten()
}

/// `YYYY-MM-DD` as days since 1970-01-01. MySQL's zero dates are refused.
pub(super) fn date(bytes: &[u8]) -> Result<i32, String> {
    let t = text(bytes)?;
    let mut parts = t.splitn(3, '-');
    let (y, m, d) = (
        parts.next().and_then(number),
        parts.next().and_then(number),
        parts.next().and_then(number),
    );
    match (y, m, d) {
        (Some(_), Some(m), Some(d)) if m == 0 || d == 0 => Err(format!(
            "`{t}` is a zero date, which no output type holds; use NULLIF(column, '{t}') in the query"
        )),
        (Some(y), Some(m @ 1..=12), Some(d @ 1..=31)) => {
            Ok(days_from_civil(y, m as u32, d as u32) as i32)
        }
        _ => Err(format!("`{t}` is not a date")),
    }
}

/// `HH:MM:SS[.ffffff]` (hours may exceed 24 and be negative in MySQL) as microseconds.
pub(super) fn time(bytes: &[u8]) -> Result<i64, String> {
    let t = text(bytes)?;
    let (negative, rest) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (clock, fraction) = rest.split_once('.').unwrap_or((rest, ""));
    let mut parts = clock.split(':');
    let (h, m, s) = (
        parts.next().and_then(number),
        parts.next().and_then(number),
        parts.next().and_then(number),
    );
    let (Some(h), Some(m @ 0..=59), Some(s @ 0..=59), None) = (h, m, s, parts.next()) else {
        return Err(format!("`{t}` is not a time"));
    };
    let micros = micros_of(fraction).ok_or_else(|| format!("`{t}` is not a time"))?;
    let value = ((h * 60 + m) * 60 + s) * 1_000_000 + micros;
    Ok(if negative { -value } else { value })
}

fn micros_of(fraction: &str) -> Option<i64> {
    if fraction.is_empty() {
        return Some(0);
    }
    if fraction.len() > 6 {
        return None;
    }
    let digits = number(fraction)?;
    Some(digits * 10i64.pow(6 - fraction.len() as u32))
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` as microseconds since 1970-01-01T00:00.
pub(super) fn datetime(bytes: &[u8]) -> Result<i64, String> {
    let t = text(bytes)?;
    let (day, clock) = t.split_once(' ').unwrap_or((t, "00:00:00"));
    let days = date(day.as_bytes())?;
    let micros = time(clock.as_bytes())?;
    if !(0..crate::types::DAY_MICROS).contains(&micros) {
        return Err(format!("`{t}` is not a date and time"));
    }
    Ok(i64::from(days) * crate::types::DAY_MICROS + micros)
}

/// A `BIT(n)` value: big-endian bytes.
pub(super) fn bits(bytes: &[u8]) -> Result<u64, String> {
    if bytes.len() > 8 {
        return Err("a BIT value longer than 64 bits".into());
    }
    Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_exactly() {
        assert_eq!(int(b"-42").unwrap(), -42);
        assert_eq!(uint(b"18446744073709551615").unwrap(), u64::MAX);
        assert!(int(b"4x").unwrap_err().contains("`4x`"));
        assert_eq!(decimal(b"-123.45", 3).unwrap(), -123_450);
        assert_eq!(decimal(b"7", 2).unwrap(), 700);
        assert_eq!(decimal(b"0.05", 2).unwrap(), 5);
        assert!(
            decimal(b"1.234", 2).is_err(),
            "more decimals than the scale"
        );
        assert!(decimal(b"-", 2).is_err());
        assert_eq!(float(b"1.5e3").unwrap(), 1500.0);
        assert_eq!(bits(&[1, 0]).unwrap(), 256);
    }

    #[test]
    fn dates_and_times_parse() {
        assert_eq!(date(b"1970-01-02").unwrap(), 1);
        assert!(date(b"0000-00-00").unwrap_err().contains("zero date"));
        assert!(date(b"2024-13-01").is_err());
        assert_eq!(time(b"01:02:03.5").unwrap(), 3_723_500_000);
        assert_eq!(time(b"-838:59:59").unwrap(), -3_020_399_000_000);
        assert!(time(b"10:61:00").is_err());
        assert_eq!(
            datetime(b"1970-01-02 00:00:01.000001").unwrap(),
            86_401_000_001
        );
        assert!(datetime(b"1970-01-02 25:00:00").is_err());
    }
}
