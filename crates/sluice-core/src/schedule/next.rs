//! The next fire time of a cron specification in a time zone.
//!
//! The search walks local calendar days forward from the given instant, and
//! within a matching day the allowed hours and minutes in order, converting
//! each local time to UTC. Walking days (rather than minutes) keeps the cost
//! bounded by the calendar, not by how sparse the schedule is.

use super::cron::{CronSpec, DayRule};
use chrono::{DateTime, Datelike, LocalResult, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// How far ahead to look for a schedule without an explicit year list.
const HORIZON_YEARS: i32 = 30;

pub(super) fn next_cron(spec: &CronSpec, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    let start = after.with_timezone(&tz).date_naive();
    let last_year = match &spec.years {
        Some(years) => *years.last()? as i32,
        None => start.year() + HORIZON_YEARS,
    };
    let mut date = start;
    while date.year() <= last_year {
        if date_matches(spec, date) {
            if let Some(found) = first_time_in_day(spec, date, after, tz) {
                return Some(found);
            }
        }
        date = date.succ_opt()?;
    }
    None
}

fn date_matches(spec: &CronSpec, date: NaiveDate) -> bool {
    let year_ok = spec
        .years
        .as_ref()
        .is_none_or(|years| years.binary_search(&(date.year() as u32)).is_ok());
    if !year_ok || !spec.months.contains(date.month()) {
        return false;
    }
    let by_month_day = rule_matches(&spec.day_of_month, date);
    let by_week_day = rule_matches(&spec.day_of_week, date);
    if spec.either_day {
        by_month_day || by_week_day
    } else {
        by_month_day && by_week_day
    }
}

/// The first allowed local time of `date` that exists in `tz` and falls after
/// `after`. A skipped local time (spring forward) is passed over; a repeated
/// one (fall back) counts at its first occurrence only.
fn first_time_in_day(
    spec: &CronSpec,
    date: NaiveDate,
    after: DateTime<Utc>,
    tz: Tz,
) -> Option<DateTime<Utc>> {
    for hour in spec.hours.values(0, 23) {
        for minute in spec.minutes.values(0, 59) {
            let local = date.and_hms_opt(hour, minute, 0)?;
            let instant = match tz.from_local_datetime(&local) {
                LocalResult::None => continue,
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            };
            if instant > after {
                return Some(instant);
            }
        }
    }
    None
}

fn rule_matches(rule: &DayRule, date: NaiveDate) -> bool {
    let day = date.day();
    let last = last_day_of_month(date);
    let weekday = date.weekday().num_days_from_sunday();
    match rule {
        DayRule::Any => true,
        DayRule::MonthDays(days) => days.contains(day),
        DayRule::LastDayOfMonth => day == last,
        DayRule::LastWeekdayOfMonth => day == nearest_weekday(date, last, last),
        DayRule::NearestWeekday(target) => {
            *target <= last && day == nearest_weekday(date, *target, last)
        }
        DayRule::WeekDays(days) => days.contains(weekday),
        DayRule::LastWeekdayNamed(wanted) => weekday == *wanted && day + 7 > last,
        DayRule::NthWeekday {
            weekday: wanted,
            nth,
        } => weekday == *wanted && (day - 1) / 7 + 1 == *nth,
    }
}

/// The weekday (Mon–Fri) nearest to day `target` of `date`'s month, never
/// crossing into another month (the `W` rule).
fn nearest_weekday(date: NaiveDate, target: u32, last: u32) -> u32 {
    let Some(target_date) = date.with_day(target) else {
        return 0;
    };
    match target_date.weekday() {
        Weekday::Sat if target == 1 => 3,
        Weekday::Sat => target - 1,
        Weekday::Sun if target == last => target - 2,
        Weekday::Sun => target + 1,
        _ => target,
    }
}

fn last_day_of_month(date: NaiveDate) -> u32 {
    let (y, m) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.pred_opt())
        .map_or(31, |d| d.day())
}
