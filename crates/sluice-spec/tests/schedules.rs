//! Schedule triggers are fully parsed at validation: a bad expression or time
//! zone is reported at its position, with the offending cron field named.

use sluice_spec::parse_project;

const PROJECT: &str = "version: 1
functions:
  extract:
    run: ./extract.sh
triggers:
  nightly:
    schedule: cron(0 2 * * * *)
    timezone: Europe/Pariss
    target: { function: extract }
  hourly:
    schedule: rate(1 hours)
    target: { function: extract }
  springs_forward:
    schedule: at(2026-03-29T02:30:00)
    timezone: Europe/Paris
    target: { function: extract }
  fine:
    schedule: cron(0/15 8-17 ? * MON-FRI *)
    timezone: America/New_York
    target: { function: extract }
";

#[test]
fn bad_schedules_and_time_zones_are_reported_where_they_are() {
    let errors = parse_project("sluice.yaml", PROJECT)
        .expect_err("invalid schedules")
        .to_string();
    assert!(
        errors.contains("sluice.yaml:7:15: triggers.nightly.schedule: invalid schedule `cron(0 2 * * * *)`: day-of-week: one of day-of-month and day-of-week must be `?`"),
        "{errors}"
    );
    assert!(errors.contains("triggers.nightly.timezone: unknown time zone `Europe/Pariss`; did you mean `Europe/Paris`?"), "{errors}");
    assert!(
        errors.contains("triggers.hourly.schedule") && errors.contains("rate(1 hour)"),
        "{errors}"
    );
    assert!(
        errors.contains("sluice.yaml:14:15: triggers.springs_forward.schedule: invalid schedule `at(2026-03-29T02:30:00)`: 2026-03-29 02:30:00 does not exist in Europe/Paris"),
        "{errors}"
    );
    assert!(
        !errors.contains("triggers.fine"),
        "valid schedules pass: {errors}"
    );
}
