//! Schedule expressions and their next fire times.
//!
//! Accepted, as AWS EventBridge Scheduler defines them:
//!
//! * `cron(Minutes Hours Day-of-month Month Day-of-week Year)` with `*`, `,`,
//!   `-`, `/`, `?`, `L`, `W` and `#`; exactly one of the two day fields must
//!   be `?`; weekdays are `1`–`7` = `SUN`–`SAT`.
//! * `rate(N minute|minutes|hour|hours|day|days)`: every N units from an anchor
//!   (the schedule's first start), as fixed durations (a "day" is 24 hours).
//! * `at(yyyy-mm-ddThh:mm:ss)`: once, at that local time.
//! * Standard five-field cron (`*/5 * * * 1-5`): weekdays `0`–`7` with `0` and
//!   `7` both Sunday, and when both day fields are restricted a day matching
//!   either fires (the Vixie cron rule).
//!
//! Cron and at expressions are evaluated in an IANA time zone. Around daylight
//! saving changes Sluice does what AWS documents: a local time that does not
//! exist (clocks jump forward) is skipped, and a local time that happens twice
//! (clocks fall back) fires once, at its first occurrence.

mod cron;
mod field;
mod next;

pub use cron::CronSpec;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::time::Duration;

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Cron(CronSpec),
    Rate(Duration),
    At(NaiveDateTime),
}

/// Why an expression is invalid, naming the field (e.g. `day-of-week`) when one is at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", field.map(|f| format!("{f}: ")).unwrap_or_default())]
pub struct ScheduleError {
    pub field: Option<&'static str>,
    pub message: String,
}

impl ScheduleError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ScheduleError {
            field: None,
            message: message.into(),
        }
    }

    pub(crate) fn in_field(field: &'static str, message: impl Into<String>) -> Self {
        ScheduleError {
            field: Some(field),
            message: message.into(),
        }
    }
}

impl Schedule {
    /// Parses any accepted expression.
    pub fn parse(expression: &str) -> Result<Schedule, ScheduleError> {
        let expression = expression.trim();
        if let Some(body) = inner(expression, "cron") {
            return CronSpec::parse_aws(body).map(Schedule::Cron);
        }
        if let Some(body) = inner(expression, "rate") {
            return parse_rate(body).map(Schedule::Rate);
        }
        if let Some(body) = inner(expression, "at") {
            return NaiveDateTime::parse_from_str(body.trim(), "%Y-%m-%dT%H:%M:%S")
                .map(Schedule::At)
                .map_err(|e| {
                    ScheduleError::new(format!(
                        "`{body}` is not a date and time like 2026-12-31T23:59:00 ({e})"
                    ))
                });
        }
        if expression.split_whitespace().count() == 5 {
            return CronSpec::parse_standard(expression).map(Schedule::Cron);
        }
        Err(ScheduleError::new(format!(
            "`{expression}` is not a schedule: use cron(M H DoM Mon DoW Y), rate(N unit), at(yyyy-mm-ddThh:mm:ss) or five-field cron"
        )))
    }

    /// Refuses what can never fire in `tz`: an `at(...)` whose local time
    /// falls in a daylight-saving gap (02:30 on a spring-forward night)
    /// names no instant, so it would silently never run. A repeated local
    /// time (fall back) is fine: it fires at its first occurrence.
    pub fn check_in(&self, tz: Tz) -> Result<(), ScheduleError> {
        let Schedule::At(local) = self else {
            return Ok(());
        };
        if let LocalResult::None = tz.from_local_datetime(local) {
            return Err(ScheduleError::new(format!(
                "{local} does not exist in {} (the clocks skip it for daylight saving time), \
                 so this schedule would never fire; pick a time outside the gap",
                tz.name()
            )));
        }
        Ok(())
    }

    /// The first fire time strictly after `after`. `anchor` is when a rate
    /// schedule started counting; `tz` is where cron and at are read.
    pub fn next_after(
        &self,
        after: DateTime<Utc>,
        anchor: DateTime<Utc>,
        tz: Tz,
    ) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron(spec) => next::next_cron(spec, after, tz),
            Schedule::Rate(period) => {
                let period = chrono::Duration::from_std(*period).ok()?;
                if after < anchor {
                    return Some(anchor);
                }
                let elapsed = (after - anchor).num_milliseconds();
                let steps = elapsed / period.num_milliseconds() + 1;
                Some(anchor + period * steps as i32)
            }
            Schedule::At(local) => {
                let at = tz
                    .from_local_datetime(local)
                    .earliest()?
                    .with_timezone(&Utc);
                (at > after).then_some(at)
            }
        }
    }
}

fn inner<'a>(expression: &'a str, name: &str) -> Option<&'a str> {
    expression
        .strip_prefix(name)?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')
}

fn parse_rate(body: &str) -> Result<Duration, ScheduleError> {
    let mut words = body.split_whitespace();
    let (Some(value), Some(unit), None) = (words.next(), words.next(), words.next()) else {
        return Err(ScheduleError::new(format!(
            "`rate({body})` must be rate(N unit), e.g. rate(5 minutes)"
        )));
    };
    let n: u64 =
        value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            ScheduleError::new(format!("`{value}` is not a positive whole number"))
        })?;
    let seconds = match (unit, n) {
        ("minute", 1) | ("minutes", 2..) => 60,
        ("hour", 1) | ("hours", 2..) => 3_600,
        ("day", 1) | ("days", 2..) => 86_400,
        ("minutes" | "hours" | "days", 1) => {
            return Err(ScheduleError::new(format!(
                "write `rate(1 {})`",
                unit.trim_end_matches('s')
            )))
        }
        ("minute" | "hour" | "day", _) => {
            return Err(ScheduleError::new(format!("write `rate({n} {unit}s)`")))
        }
        _ => {
            return Err(ScheduleError::new(format!(
                "unknown unit `{unit}` (use minutes, hours or days)"
            )))
        }
    };
    Ok(Duration::from_secs(n * seconds))
}

#[cfg(test)]
mod tests;
