//! Durations, sizes and failure tolerances as written in the project file.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A duration: a humantime string (`30s`, `15m`, `1h 30m`) or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub fn get(self) -> Duration {
        self.0
    }

    pub fn from_secs(secs: u64) -> Self {
        HumanDuration(Duration::from_secs(secs))
    }
}

impl From<Duration> for HumanDuration {
    fn from(d: Duration) -> Self {
        HumanDuration(d)
    }
}

impl From<HumanDuration> for Duration {
    fn from(d: HumanDuration) -> Self {
        d.0
    }
}

impl FromStr for HumanDuration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            return t
                .parse::<u64>()
                .map(Self::from_secs)
                .map_err(|e| format!("invalid duration `{s}`: {e}"));
        }
        humantime::parse_duration(t).map(HumanDuration).map_err(|e| {
            format!("invalid duration `{s}` ({e}); write e.g. `30s`, `15m`, `1h 30m` or a number of seconds")
        })
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as `30s`, `15m`, `1h 30m` or a number of seconds")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HumanDuration, E> {
                Ok(HumanDuration::from_secs(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<HumanDuration, E> {
                u64::try_from(v).map(HumanDuration::from_secs).map_err(|_| {
                    E::custom(format!(
                        "invalid duration {v}: durations cannot be negative"
                    ))
                })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<HumanDuration, E> {
                Duration::try_from_secs_f64(v)
                    .map(HumanDuration)
                    .map_err(|_| {
                        E::custom(format!(
                            "invalid duration {v}: expected a non-negative number of seconds"
                        ))
                    })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HumanDuration, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for HumanDuration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: `30s`, `15m`, `1h 30m`, `2d`, or an integer number of seconds.",
            "anyOf": [
                { "type": "string", "pattern": "^\\s*[0-9]" },
                { "type": "integer", "minimum": 0 }
            ]
        })
    }
}

/// A size in bytes: `512MiB`, `6MB`, `1.5GiB` or an integer number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

impl ByteSize {
    pub fn bytes(self) -> u64 {
        self.0
    }
}

const SIZE_UNITS: &[(&str, u64)] = &[
    ("", 1),
    ("b", 1),
    ("k", 1_000),
    ("kb", 1_000),
    ("ki", 1 << 10),
    ("kib", 1 << 10),
    ("m", 1_000_000),
    ("mb", 1_000_000),
    ("mi", 1 << 20),
    ("mib", 1 << 20),
    ("g", 1_000_000_000),
    ("gb", 1_000_000_000),
    ("gi", 1 << 30),
    ("gib", 1 << 30),
    ("t", 1_000_000_000_000),
    ("tb", 1_000_000_000_000),
    ("ti", 1 << 40),
    ("tib", 1 << 40),
];

impl FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = (&t[..split], t[split..].trim());
        let bad = || {
            format!("invalid size `{s}`; write e.g. `512MiB`, `6MB`, `1.5GiB` or a number of bytes")
        };
        let value: f64 = num.parse().map_err(|_| bad())?;
        let lower = unit.to_ascii_lowercase();
        let Some((_, factor)) = SIZE_UNITS.iter().find(|(u, _)| *u == lower) else {
            return Err(format!(
                "invalid size `{s}`: unknown unit `{unit}` (use B, KB, MB, GB, TB or KiB, MiB, GiB, TiB)"
            ));
        };
        let bytes = (value * *factor as f64).round();
        if !bytes.is_finite() || bytes >= u64::MAX as f64 {
            return Err(format!("invalid size `{s}`: too large"));
        }
        Ok(ByteSize(bytes as u64))
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size such as `512MiB`, `6MB` or a number of bytes")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom(format!("invalid size {v}: sizes cannot be negative")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for ByteSize {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size: `512MiB`, `6MB`, `1.5GiB` (KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB of 1024) or an integer number of bytes.",
            "anyOf": [
                { "type": "string", "pattern": "^\\s*[0-9.]+\\s*([kKmMgGtT][iI]?)?[bB]?\\s*$" },
                { "type": "integer", "minimum": 0 }
            ]
        })
    }
}

/// How many items of a fan-out may fail before the phase fails:
/// a percentage (`"10%"`) or a count (`3`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FailureTolerance {
    /// At most this percentage (0–100) of the items.
    Percent(f64),
    /// At most this many items.
    Count(u64),
}

impl FailureTolerance {
    /// Whether `failed` failures out of `total` items are tolerated.
    pub fn tolerates(self, failed: u64, total: u64) -> bool {
        match self {
            FailureTolerance::Count(n) => failed <= n,
            FailureTolerance::Percent(p) => {
                total == 0 || (failed as f64) * 100.0 <= p * total as f64
            }
        }
    }
}

impl Serialize for FailureTolerance {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FailureTolerance::Percent(p) => s.serialize_str(&format!("{p}%")),
            FailureTolerance::Count(n) => s.serialize_u64(*n),
        }
    }
}

impl<'de> Deserialize<'de> for FailureTolerance {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = FailureTolerance;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage such as `10%` or a number of items")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FailureTolerance, E> {
                Ok(FailureTolerance::Count(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FailureTolerance, E> {
                u64::try_from(v)
                    .map(FailureTolerance::Count)
                    .map_err(|_| E::custom(format!("invalid tolerance {v}: cannot be negative")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FailureTolerance, E> {
                let bad = || {
                    E::custom(format!(
                        "invalid tolerance `{v}`; write a percentage such as `10%` or a count"
                    ))
                };
                match v.trim().strip_suffix('%') {
                    Some(p) => {
                        let p: f64 = p.trim().parse().map_err(|_| bad())?;
                        if !(0.0..=100.0).contains(&p) {
                            return Err(E::custom(format!(
                                "invalid tolerance `{v}`: must be between 0% and 100%"
                            )));
                        }
                        Ok(FailureTolerance::Percent(p))
                    }
                    None => v
                        .trim()
                        .parse()
                        .map(FailureTolerance::Count)
                        .map_err(|_| bad()),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for FailureTolerance {
    fn schema_name() -> Cow<'static, str> {
        "FailureTolerance".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "How many items may fail: a percentage (`\"10%\"`) or a count.",
            "anyOf": [
                { "type": "string", "pattern": "^\\s*[0-9.]+\\s*%\\s*$" },
                { "type": "integer", "minimum": 0 }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = [
            ("30s", 30),
            ("15m", 900),
            ("1h 30m", 5400),
            ("1h30m", 5400),
            ("2d", 172_800),
            ("45", 45),
        ];
        for (text, secs) in ok {
            assert_eq!(
                text.parse::<HumanDuration>().unwrap().get(),
                Duration::from_secs(secs),
                "{text}"
            );
        }
        for bad in ["", "soon", "30 parsecs", "-5s"] {
            let err = bad.parse::<HumanDuration>().unwrap_err();
            assert!(err.contains("invalid duration"), "{bad}: {err}");
        }
        let d: HumanDuration = serde_json::from_value(serde_json::json!(90)).unwrap();
        assert_eq!(d.get(), Duration::from_secs(90));
        assert!(serde_json::from_value::<HumanDuration>(serde_json::json!(-1)).is_err());
        assert_eq!(
            serde_json::to_value(HumanDuration::from_secs(5400)).unwrap(),
            "1h 30m"
        );
    }

    #[test]
    fn sizes() {
        let ok = [
            ("512MiB", 512 << 20),
            ("6MB", 6_000_000),
            ("1.5GiB", 3 << 29),
            ("512 mib", 512 << 20),
            ("100", 100),
            ("10k", 10_000),
            ("2KiB", 2048),
            ("1TB", 1_000_000_000_000),
        ];
        for (text, bytes) in ok {
            assert_eq!(text.parse::<ByteSize>().unwrap().bytes(), bytes, "{text}");
        }
        for bad in ["", "MB", "12 parsecs", "1.2.3MB", "-5MB"] {
            assert!(bad.parse::<ByteSize>().is_err(), "{bad}");
        }
        let s: ByteSize = serde_json::from_value(serde_json::json!(4096)).unwrap();
        assert_eq!(s.bytes(), 4096);
    }

    #[test]
    fn tolerances() {
        let p: FailureTolerance = serde_json::from_value(serde_json::json!("10%")).unwrap();
        assert_eq!(p, FailureTolerance::Percent(10.0));
        assert!(p.tolerates(1, 10) && !p.tolerates(2, 10));
        let c: FailureTolerance = serde_json::from_value(serde_json::json!(3)).unwrap();
        assert!(c.tolerates(3, 100) && !c.tolerates(4, 100));
        assert!(serde_json::from_value::<FailureTolerance>(serde_json::json!("150%")).is_err());
    }
}
