//! Typed cell values: parsing a CSV field (or a query parameter) into the
//! column's type and checking the column's constraints, with a reason a
//! person can act on when it fails.

use crate::schema::{type_name, ColumnSchema};
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde_json::Value;
use sluice_spec::ColumnType;

/// One value of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Integer(i64),
    /// An exact decimal, normalized (no `+`, no redundant leading zeros).
    Decimal(String),
    Float(f64),
    Boolean(bool),
    Date(NaiveDate),
    Timestamp(DateTime<Utc>),
    /// Valid JSON text, kept as written.
    Json(String),
}

impl Cell {
    /// The value as text, the form every backend can bind: also what enum
    /// membership is checked against.
    pub fn canonical(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Text(s) | Cell::Decimal(s) | Cell::Json(s) => s.clone(),
            Cell::Integer(i) => i.to_string(),
            Cell::Float(f) => f.to_string(),
            Cell::Boolean(b) => b.to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Timestamp(t) => format_timestamp(t),
        }
    }

    /// [`Cell::canonical`] without copying when the value is text already.
    pub fn key_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Cell::Text(s) | Cell::Decimal(s) | Cell::Json(s) => std::borrow::Cow::Borrowed(s),
            other => std::borrow::Cow::Owned(other.canonical()),
        }
    }

    /// The value as JSON: numbers stay numbers, decimals stay exact strings.
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Text(s) | Cell::Decimal(s) => Value::String(s.clone()),
            Cell::Integer(i) => Value::from(*i),
            Cell::Float(f) => Value::from(*f),
            Cell::Boolean(b) => Value::Bool(*b),
            Cell::Json(s) => serde_json::from_str(s).unwrap_or(Value::String(s.clone())),
            other => Value::String(other.canonical()),
        }
    }
}

/// Timestamps are stored as fixed-width UTC text so that text order is time
/// order (SQLite compares them as text).
pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses `text` as a value of `kind` (no constraints checked).
pub fn parse_cell(kind: ColumnType, text: &str) -> Result<Cell, String> {
    let shown = || shorten(text);
    match kind {
        ColumnType::String => Ok(Cell::Text(text.to_string())),
        ColumnType::Integer => text
            .trim()
            .parse::<i64>()
            .map(Cell::Integer)
            .map_err(|_| format!("`{}` is not an integer", shown())),
        ColumnType::Decimal => parse_decimal(text.trim())
            .map(Cell::Decimal)
            .ok_or_else(|| format!("`{}` is not a decimal number", shown())),
        ColumnType::Float => match text.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Cell::Float(f)),
            _ => Err(format!("`{}` is not a finite number", shown())),
        },
        ColumnType::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" => Ok(Cell::Boolean(true)),
            "false" | "f" | "no" | "n" | "0" => Ok(Cell::Boolean(false)),
            _ => Err(format!(
                "`{}` is not a boolean (true/false, yes/no, 1/0)",
                shown()
            )),
        },
        ColumnType::Date => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map(Cell::Date)
            .map_err(|e| format!("`{}` is not a date YYYY-MM-DD ({e})", shown())),
        ColumnType::Timestamp => parse_timestamp(text.trim())
            .map(Cell::Timestamp)
            .ok_or_else(|| {
                format!(
                    "`{}` is not a timestamp (RFC 3339, e.g. 2024-05-01T12:00:00Z)",
                    shown()
                )
            }),
        ColumnType::Json => serde_json::from_str::<serde::de::IgnoredAny>(text)
            .map(|_| Cell::Json(text.to_string()))
            .map_err(|e| format!("not valid JSON: {e}")),
    }
}

fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc())
}

/// `[+-]digits[.digits]`, normalized; `None` if it is not a decimal.
fn parse_decimal(text: &str) -> Option<String> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| f.is_empty() || !all_digits(f)) {
        return None;
    }
    if whole.is_empty() && fraction.is_none() {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let mut out = String::with_capacity(text.len() + 1);
    let is_zero = whole == "0" && fraction.is_none_or(|f| f.bytes().all(|b| b == b'0'));
    if negative && !is_zero {
        out.push('-');
    }
    out.push_str(whole);
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    Some(out)
}

/// Parses and checks one field against its column; `None` is a null.
pub fn check_value(column: &ColumnSchema, raw: Option<&str>) -> Result<Cell, String> {
    let Some(text) = raw else {
        return if column.required {
            Err("a value is required".into())
        } else {
            Ok(Cell::Null)
        };
    };
    let cell = parse_cell(column.kind, text)?;
    if let Some(max) = column.max_length {
        let length = text.chars().count();
        if length > max as usize {
            return Err(format!("{length} characters, more than max_length {max}"));
        }
    }
    if let Some(re) = &column.regex {
        if !re.is_match(text) {
            return Err(format!(
                "`{}` does not match the pattern `{}`",
                shorten(text),
                pattern_of(re)
            ));
        }
    }
    if let Some(allowed) = &column.allowed {
        if !allowed.contains(cell.key_text().as_ref()) {
            let mut choices: Vec<&str> = allowed.iter().map(String::as_str).collect();
            choices.sort_unstable();
            return Err(format!(
                "`{}` is not one of: {}",
                shorten(text),
                choices.join(", ")
            ));
        }
    }
    let number = match &cell {
        Cell::Integer(i) => Some(*i as f64),
        Cell::Float(f) => Some(*f),
        Cell::Decimal(d) => d.parse::<f64>().ok(),
        _ => None,
    };
    if let Some(n) = number {
        if let Some(min) = column.min.filter(|min| n < *min) {
            return Err(format!("{} is below the minimum {min}", text.trim()));
        }
        if let Some(max) = column.max.filter(|max| n > *max) {
            return Err(format!("{} is above the maximum {max}", text.trim()));
        }
    }
    Ok(cell)
}

/// The user's pattern, without the anchors added when compiling it.
fn pattern_of(re: &regex::Regex) -> &str {
    let s = re.as_str();
    s.strip_prefix("^(?:")
        .and_then(|s| s.strip_suffix(")$"))
        .unwrap_or(s)
}

/// A value as quoted in an error message: at most 60 characters.
pub fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}…")
    }
}

/// The type named in messages, re-exported for callers building reasons.
pub fn kind_name(kind: ColumnType) -> &'static str {
    type_name(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_normalize_and_reject_garbage() {
        assert_eq!(parse_decimal("+007.50").as_deref(), Some("7.50"));
        assert_eq!(parse_decimal("-0.0").as_deref(), Some("0.0"));
        assert_eq!(parse_decimal(".5").as_deref(), Some("0.5"));
        assert_eq!(parse_decimal("-12").as_deref(), Some("-12"));
        for bad in ["", "-", ".", "1.", "1e5", "1.2.3", "12a", " 1"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn timestamps_accept_common_forms_and_normalize_to_utc() {
        let expect = "2024-05-01T10:00:00.000000Z";
        for text in [
            "2024-05-01T12:00:00+02:00",
            "2024-05-01T10:00:00Z",
            "2024-05-01 10:00:00",
            "2024-05-01T10:00:00.000",
        ] {
            assert_eq!(
                parse_cell(ColumnType::Timestamp, text).unwrap().canonical(),
                expect,
                "{text}"
            );
        }
        assert!(parse_cell(ColumnType::Timestamp, "2024-13-01T00:00:00Z").is_err());
    }

    #[test]
    fn booleans_and_integers_have_clear_reasons() {
        assert_eq!(
            parse_cell(ColumnType::Boolean, "Yes").unwrap(),
            Cell::Boolean(true)
        );
        assert_eq!(
            parse_cell(ColumnType::Integer, "12x").unwrap_err(),
            "`12x` is not an integer"
        );
        assert!(parse_cell(ColumnType::Float, "NaN").is_err());
        assert!(parse_cell(ColumnType::Json, "{\"a\":").is_err());
    }
}
