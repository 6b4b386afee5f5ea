//! Cron specifications: AWS's six fields and standard five fields, parsed
//! into sets of allowed values and day rules.

use super::field::{Bits, FieldKind, MONTHS, WEEKDAYS};
use super::ScheduleError;

const MINUTES: FieldKind = FieldKind {
    name: "minutes",
    min: 0,
    max: 59,
    names: &[],
    names_start: 0,
};
const HOURS: FieldKind = FieldKind {
    name: "hours",
    min: 0,
    max: 23,
    names: &[],
    names_start: 0,
};
const DAYS_OF_MONTH: FieldKind = FieldKind {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
    names_start: 0,
};
const MONTH: FieldKind = FieldKind {
    name: "month",
    min: 1,
    max: 12,
    names: MONTHS,
    names_start: 1,
};
/// AWS numbers weekdays 1 (Sunday) to 7 (Saturday).
const AWS_WEEKDAYS: FieldKind = FieldKind {
    name: "day-of-week",
    min: 1,
    max: 7,
    names: WEEKDAYS,
    names_start: 1,
};
/// Standard cron numbers weekdays 0 (Sunday) to 7 (Sunday again).
const UNIX_WEEKDAYS: FieldKind = FieldKind {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: WEEKDAYS,
    names_start: 0,
};
const YEARS: FieldKind = FieldKind {
    name: "year",
    min: 1970,
    max: 2199,
    names: &[],
    names_start: 0,
};

/// Which days of a month qualify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayRule {
    /// `?` or `*`: no restriction from this field.
    Any,
    /// Days of the month (1–31).
    MonthDays(Bits),
    /// `L`: the last day of the month.
    LastDayOfMonth,
    /// `LW`: the last weekday (Mon–Fri) of the month.
    LastWeekdayOfMonth,
    /// `15W`: the weekday nearest the 15th, within the month.
    NearestWeekday(u32),
    /// Weekdays, 0 = Sunday … 6 = Saturday.
    WeekDays(Bits),
    /// `6L`: the last such weekday of the month (0 = Sunday).
    LastWeekdayNamed(u32),
    /// `3#2`: the nth such weekday of the month (0 = Sunday).
    NthWeekday { weekday: u32, nth: u32 },
}

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSpec {
    pub minutes: Bits,
    pub hours: Bits,
    pub months: Bits,
    pub day_of_month: DayRule,
    pub day_of_week: DayRule,
    /// `None` is every year.
    pub years: Option<Vec<u32>>,
    /// Standard cron: a day matches if either day field does (Vixie's rule
    /// when neither field starts with `*`); otherwise both must match.
    pub either_day: bool,
}

impl CronSpec {
    /// `Minutes Hours Day-of-month Month Day-of-week Year`, as AWS defines it.
    pub fn parse_aws(body: &str) -> Result<CronSpec, ScheduleError> {
        let fields: Vec<&str> = body.split_whitespace().collect();
        let [minutes, hours, dom, month, dow, year] = fields[..] else {
            return Err(ScheduleError::new(format!(
                "cron(...) takes six fields (minutes hours day-of-month month day-of-week year), found {}",
                fields.len()
            )));
        };
        match (dom == "?", dow == "?") {
            (true, true) => return Err(ScheduleError::in_field("day-of-week", "only one of day-of-month and day-of-week may be `?`")),
            (false, false) => {
                return Err(ScheduleError::in_field(
                    "day-of-week",
                    "one of day-of-month and day-of-week must be `?` (e.g. cron(0 8 * * ? *) or cron(0 8 ? * MON-FRI *))",
                ))
            }
            _ => {}
        }
        Ok(CronSpec {
            minutes: MINUTES.parse(minutes)?,
            hours: HOURS.parse(hours)?,
            months: MONTH.parse(month)?,
            day_of_month: parse_day_of_month(dom)?,
            day_of_week: parse_day_of_week(dow, &AWS_WEEKDAYS, 1)?,
            years: if year == "*" {
                None
            } else {
                Some(YEARS.parse_values(year)?)
            },
            either_day: false,
        })
    }

    /// `minute hour day-of-month month day-of-week`, as cron(8) defines it.
    pub fn parse_standard(text: &str) -> Result<CronSpec, ScheduleError> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [minutes, hours, dom, month, dow] = fields[..] else {
            return Err(ScheduleError::new(
                "five-field cron takes minute hour day-of-month month day-of-week",
            ));
        };
        let day_of_month = if dom == "*" {
            DayRule::Any
        } else {
            DayRule::MonthDays(DAYS_OF_MONTH.parse(dom)?)
        };
        let day_of_week = match dow {
            "*" => DayRule::Any,
            _ => {
                let bits = UNIX_WEEKDAYS.parse(dow)?;
                // 7 is Sunday too.
                let folded = (bits.0 | (bits.0 >> 7)) & 0x7f;
                DayRule::WeekDays(Bits(folded))
            }
        };
        Ok(CronSpec {
            minutes: MINUTES.parse(minutes)?,
            hours: HOURS.parse(hours)?,
            months: MONTH.parse(month)?,
            either_day: either_day(dom, dow),
            day_of_month,
            day_of_week,
            years: None,
        })
    }
}

/// Vixie cron and cronie (`DOM_STAR`/`DOW_STAR` in `entry.c`) OR the day
/// fields only when neither starts with `*`: `0 0 1,15 * MON` is the 1st,
/// the 15th and every Monday, but `0 0 */2 * MON` is odd-numbered Mondays
/// (a stepped star still counts as a star).
fn either_day(dom: &str, dow: &str) -> bool {
    !dom.starts_with('*') && !dow.starts_with('*')
}

fn parse_day_of_month(text: &str) -> Result<DayRule, ScheduleError> {
    match text {
        "?" | "*" => Ok(DayRule::Any),
        "L" => Ok(DayRule::LastDayOfMonth),
        "LW" => Ok(DayRule::LastWeekdayOfMonth),
        _ => match text.strip_suffix('W') {
            Some(day) => Ok(DayRule::NearestWeekday(DAYS_OF_MONTH.value(day)?)),
            None => Ok(DayRule::MonthDays(DAYS_OF_MONTH.parse(text)?)),
        },
    }
}

/// Weekday rules; `offset` is the number the field gives Sunday.
fn parse_day_of_week(text: &str, kind: &FieldKind, offset: u32) -> Result<DayRule, ScheduleError> {
    if text == "?" || text == "*" {
        return Ok(DayRule::Any);
    }
    if text == "L" {
        return Ok(DayRule::LastWeekdayNamed(6));
    }
    if let Some(day) = text.strip_suffix('L') {
        return Ok(DayRule::LastWeekdayNamed(kind.value(day)? - offset));
    }
    if let Some((day, nth)) = text.split_once('#') {
        let nth: u32 = nth
            .parse()
            .ok()
            .filter(|n| (1..=5).contains(n))
            .ok_or_else(|| kind.error(format!("`#{nth}` must be 1 to 5")))?;
        return Ok(DayRule::NthWeekday {
            weekday: kind.value(day)? - offset,
            nth,
        });
    }
    let bits = kind.parse(text)?;
    Ok(DayRule::WeekDays(Bits(bits.0 >> offset)))
}
