//! Schedule expressions checked against AWS's documented examples and the
//! daylight-saving rules.

use super::*;
use chrono::TimeZone;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// The next `n` fire times after `from`, in UTC, as `yyyy-mm-dd hh:mm`.
fn upcoming(expression: &str, from: DateTime<Utc>, tz: Tz, n: usize) -> Vec<String> {
    let schedule = Schedule::parse(expression).unwrap_or_else(|e| panic!("{expression}: {e}"));
    let mut out = Vec::new();
    let mut at = from;
    for _ in 0..n {
        match schedule.next_after(at, from, tz) {
            Some(next) => {
                out.push(next.format("%Y-%m-%d %H:%M").to_string());
                at = next;
            }
            None => break,
        }
    }
    out
}

#[test]
fn aws_documented_examples() {
    let from = utc(2026, 1, 1, 0, 0); // a Thursday
    let cases: &[(&str, &[&str])] = &[
        // 10:15 UTC every day
        (
            "cron(15 10 * * ? *)",
            &["2026-01-01 10:15", "2026-01-02 10:15"],
        ),
        // 6:00 PM Monday through Friday
        (
            "cron(0 18 ? * MON-FRI *)",
            &["2026-01-01 18:00", "2026-01-02 18:00", "2026-01-05 18:00"],
        ),
        // 8:00 AM on the first day of the month
        (
            "cron(0 8 1 * ? *)",
            &["2026-01-01 08:00", "2026-02-01 08:00"],
        ),
        // every 10 minutes on weekdays
        (
            "cron(0/10 * ? * MON-FRI *)",
            &["2026-01-01 00:10", "2026-01-01 00:20"],
        ),
        // every 5 minutes between 8:00 AM and 5:55 PM weekdays
        (
            "cron(0/5 8-17 ? * MON-FRI *)",
            &["2026-01-01 08:00", "2026-01-01 08:05"],
        ),
        // 9:00 AM on the first Monday of each month
        (
            "cron(0 9 ? * 2#1 *)",
            &["2026-01-05 09:00", "2026-02-02 09:00", "2026-03-02 09:00"],
        ),
        // last day of the month, last Friday, weekday nearest the 15th
        (
            "cron(0 12 L * ? *)",
            &["2026-01-31 12:00", "2026-02-28 12:00"],
        ),
        (
            "cron(0 12 ? * 6L *)",
            &["2026-01-30 12:00", "2026-02-27 12:00"],
        ),
        (
            "cron(0 12 15W * ? *)",
            &["2026-01-15 12:00", "2026-02-16 12:00", "2026-03-16 12:00"],
        ),
        (
            "cron(0 12 LW * ? *)",
            &["2026-01-30 12:00", "2026-02-27 12:00"],
        ),
        (
            "cron(0 12 1W * ? *)",
            &["2026-01-01 12:00", "2026-02-02 12:00", "2026-03-02 12:00"],
        ),
        // a year list
        (
            "cron(0 0 1 JAN ? 2027,2029)",
            &["2027-01-01 00:00", "2029-01-01 00:00"],
        ),
        // standard five-field cron, with Vixie's "either day" rule
        (
            "*/30 9 * * 1-5",
            &["2026-01-01 09:00", "2026-01-01 09:30", "2026-01-02 09:00"],
        ),
        (
            "0 0 13 * 5",
            &["2026-01-02 00:00", "2026-01-09 00:00", "2026-01-13 00:00"],
        ),
        ("0 6 * * 7", &["2026-01-04 06:00", "2026-01-11 06:00"]),
        ("rate(5 minutes)", &["2026-01-01 00:05", "2026-01-01 00:10"]),
        ("rate(1 day)", &["2026-01-02 00:00", "2026-01-03 00:00"]),
        ("at(2026-03-04T05:06:00)", &["2026-03-04 05:06"]),
    ];
    for (expression, expected) in cases {
        assert_eq!(
            upcoming(expression, from, Tz::UTC, expected.len()),
            *expected,
            "{expression}"
        );
    }
}

/// Five-field cron's day fields, as Vixie cron and cronie combine them:
/// OR only when both are restricted and neither starts with `*`.
#[test]
fn five_field_day_of_month_and_day_of_week_combine_as_vixie_cron() {
    let from = utc(2025, 12, 31, 12, 0); // 1 January 2026 is a Thursday
    let cases: &[(&str, &[&str])] = &[
        // Both restricted: the 13th or any Friday.
        (
            "0 0 13 * 5",
            &["2026-01-02", "2026-01-09", "2026-01-13", "2026-01-16"],
        ),
        (
            "0 0 1,15 * MON",
            &["2026-01-01", "2026-01-05", "2026-01-12", "2026-01-15"],
        ),
        // A stepped star in day-of-month: odd days that are Mondays.
        (
            "0 0 */2 * MON",
            &["2026-01-05", "2026-01-19", "2026-02-09", "2026-02-23"],
        ),
        // A stepped star in day-of-week: the 1st when it is a Sun/Tue/Thu/Sat.
        (
            "0 0 1 * */2",
            &["2026-01-01", "2026-02-01", "2026-03-01", "2026-08-01"],
        ),
        // A star on one side: the other decides alone.
        ("0 0 * * FRI", &["2026-01-02", "2026-01-09"]),
        ("0 0 13 * *", &["2026-01-13", "2026-02-13"]),
        // A range covering the month is no star: OR, so every day.
        (
            "0 0 1-31 * MON",
            &["2026-01-01", "2026-01-02", "2026-01-03"],
        ),
    ];
    for (expression, expected) in cases {
        let days: Vec<String> = upcoming(expression, from, Tz::UTC, expected.len())
            .iter()
            .map(|t| t[..10].to_string())
            .collect();
        assert_eq!(days, *expected, "{expression}");
    }
}

#[test]
fn a_finite_schedule_ends() {
    assert_eq!(
        upcoming("cron(0 0 1 JAN ? 2026)", utc(2026, 6, 1, 0, 0), Tz::UTC, 3),
        Vec::<String>::new()
    );
    assert_eq!(
        upcoming("at(2020-01-01T00:00:00)", utc(2026, 1, 1, 0, 0), Tz::UTC, 1),
        Vec::<String>::new()
    );
}

#[test]
fn time_zones_and_daylight_saving() {
    let paris = chrono_tz::Europe::Paris;
    // 9:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer.
    let got = upcoming("cron(0 9 * * ? *)", utc(2026, 3, 28, 12, 0), paris, 2);
    assert_eq!(got, ["2026-03-29 07:00", "2026-03-30 07:00"]);
    // Spring forward (29 March 2026, 02:00→03:00 in Paris): 02:30 does not exist that day and is skipped.
    let got = upcoming("cron(30 2 * * ? *)", utc(2026, 3, 28, 12, 0), paris, 2);
    assert_eq!(got, ["2026-03-30 00:30", "2026-03-31 00:30"]);
    // Fall back (25 October 2026, 03:00→02:00): 02:30 happens twice but fires once.
    let got = upcoming("cron(30 2 * * ? *)", utc(2026, 10, 24, 12, 0), paris, 2);
    assert_eq!(got, ["2026-10-25 00:30", "2026-10-26 01:30"]);
    // Rates are durations, unaffected by the clock change.
    let got = upcoming("rate(1 hour)", utc(2026, 10, 25, 0, 0), paris, 2);
    assert_eq!(got, ["2026-10-25 01:00", "2026-10-25 02:00"]);
}

#[test]
fn an_at_in_a_daylight_saving_gap_is_refused() {
    let paris = chrono_tz::Europe::Paris;
    let gap = Schedule::parse("at(2026-03-29T02:30:00)").unwrap();
    let err = gap
        .check_in(paris)
        .expect_err("02:30 is skipped in Paris that night");
    assert!(
        err.to_string().contains("does not exist in Europe/Paris"),
        "{err}"
    );
    assert!(gap.check_in(Tz::UTC).is_ok(), "no gap in UTC");
    // Fall back repeats 02:30: it exists, and fires at the first one.
    let twice = Schedule::parse("at(2026-10-25T02:30:00)").unwrap();
    assert!(twice.check_in(paris).is_ok());
    assert_eq!(
        upcoming("at(2026-10-25T02:30:00)", utc(2026, 10, 1, 0, 0), paris, 1),
        ["2026-10-25 00:30"]
    );
    assert!(Schedule::parse("cron(30 2 * * ? *)")
        .unwrap()
        .check_in(paris)
        .is_ok());
}

#[test]
fn invalid_expressions_name_the_field() {
    let cases = [
        ("cron(0 8 * * * *)", Some("day-of-week"), "must be `?`"),
        ("cron(0 8 ? * ? *)", Some("day-of-week"), "only one"),
        ("cron(61 8 * * ? *)", Some("minutes"), "outside 0-59"),
        ("cron(0 25 * * ? *)", Some("hours"), "outside 0-23"),
        ("cron(0 8 ? * FUNDAY *)", Some("day-of-week"), "SUN, MON"),
        ("cron(0 8 ? * 2#6 *)", Some("day-of-week"), "1 to 5"),
        ("cron(0 8 ? JUNE MON *)", Some("month"), "not a number"),
        ("cron(0 8 * * ?)", None, "six fields"),
        ("cron(0 8 * * ? 1900)", Some("year"), "outside 1970-2199"),
        ("cron(0/0 8 * * ? *)", Some("minutes"), "step"),
        ("cron(30-10 8 * * ? *)", Some("minutes"), "backwards"),
        ("rate(1 minutes)", None, "rate(1 minute)"),
        ("rate(5 minute)", None, "rate(5 minutes)"),
        ("rate(0 hours)", None, "positive"),
        ("rate(2 weeks)", None, "unknown unit"),
        ("at(2026-13-01T00:00:00)", None, "not a date"),
        ("every day", None, "not a schedule"),
    ];
    for (expression, field, fragment) in cases {
        let err = Schedule::parse(expression).expect_err(expression);
        assert_eq!(err.field, field, "{expression}: {err}");
        assert!(err.to_string().contains(fragment), "{expression}: {err}");
    }
}
