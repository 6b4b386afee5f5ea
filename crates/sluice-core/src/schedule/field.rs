//! One numeric cron field (`*`, `5`, `1-5`, `0/15`, `MON-FRI`, lists of these)
//! as a bit set of allowed values.

use super::ScheduleError;

/// Allowed values of a field, bit `v` set when `v` is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bits(pub u128);

impl Bits {
    pub fn contains(self, v: u32) -> bool {
        v < 128 && self.0 & (1u128 << v) != 0
    }

    pub fn values(self, min: u32, max: u32) -> impl Iterator<Item = u32> {
        (min..=max).filter(move |v| self.contains(*v))
    }
}

/// The shape of a field: its name for errors, its bounds, and its value names.
pub struct FieldKind {
    pub name: &'static str,
    pub min: u32,
    pub max: u32,
    pub names: &'static [&'static str],
    /// The value of `names[0]`.
    pub names_start: u32,
}

pub const MONTHS: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
pub const WEEKDAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl FieldKind {
    /// Parses a comma-separated list of `*`, values, ranges and steps
    /// (for fields whose values are below 128).
    pub fn parse(&self, text: &str) -> Result<Bits, ScheduleError> {
        Ok(Bits(
            self.parse_values(text)?
                .into_iter()
                .fold(0u128, |bits, v| bits | (1u128 << v)),
        ))
    }

    /// The allowed values of a list, sorted and without duplicates.
    pub fn parse_values(&self, text: &str) -> Result<Vec<u32>, ScheduleError> {
        let mut values = Vec::new();
        for part in text.split(',') {
            values.extend(self.parse_part(part)?);
        }
        values.sort_unstable();
        values.dedup();
        Ok(values)
    }

    fn parse_part(&self, part: &str) -> Result<Vec<u32>, ScheduleError> {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                    self.error(format!("step `{step}` must be a positive number"))
                })?;
                (range, step)
            }
            None => (part, 1),
        };
        let (start, end) = if range == "*" {
            (self.min, self.max)
        } else if let Some((a, b)) = range.split_once('-') {
            (self.value(a)?, self.value(b)?)
        } else {
            let v = self.value(range)?;
            // `5/15` means from 5 to the end in steps of 15.
            (v, if part.contains('/') { self.max } else { v })
        };
        if start > end {
            return Err(self.error(format!("range `{range}` runs backwards")));
        }
        Ok((start..=end).step_by(step as usize).collect())
    }

    /// One value, numeric or by name.
    pub fn value(&self, text: &str) -> Result<u32, ScheduleError> {
        let upper = text.to_ascii_uppercase();
        let value = match self.names.iter().position(|n| *n == upper) {
            Some(i) => i as u32 + self.names_start,
            None => text
                .parse()
                .map_err(|_| self.error(format!("`{text}` is not a number{}", self.name_hint())))?,
        };
        if value < self.min || value > self.max {
            return Err(self.error(format!("{value} is outside {}-{}", self.min, self.max)));
        }
        Ok(value)
    }

    fn name_hint(&self) -> String {
        if self.names.is_empty() {
            String::new()
        } else {
            format!(" or one of {}", self.names.join(", "))
        }
    }

    pub fn error(&self, message: String) -> ScheduleError {
        ScheduleError::in_field(self.name, message)
    }
}
