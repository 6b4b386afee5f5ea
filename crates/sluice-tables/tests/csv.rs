//! Reading CSV files into typed rows: headers, formats and every kind of bad
//! input, each with the line, column and reason a person needs.

mod common;

use sluice_spec::UnknownColumns;
use sluice_tables::csv::{CsvFormat, CsvRows, ReadError, Record, Rejection};
use sluice_tables::Cell;

/// Each record's cells, or its problems.
type Records = Vec<Result<Vec<Cell>, Vec<Rejection>>>;

/// Every record of `text` as valid rows or rejections; or the file error.
fn read(text: &[u8], format: &CsvFormat) -> Result<Records, String> {
    let mut rows = match CsvRows::open(text, common::students(), format) {
        Ok(rows) => rows,
        Err(ReadError::Rejected(e)) => return Err(e.to_string()),
        Err(e) => panic!("{e}"),
    };
    let mut out = Vec::new();
    while let Some((_, record)) = rows.next_record().expect("read") {
        out.push(match record {
            Record::Valid(row) => Ok(row),
            Record::Invalid(problems) => Err(problems),
        });
    }
    Ok(out)
}

fn only_errors(text: &[u8]) -> Vec<Rejection> {
    read(text, &CsvFormat::default())
        .expect("file accepted")
        .into_iter()
        .filter_map(Result::err)
        .flatten()
        .collect()
}

#[test]
fn header_columns_match_by_name_in_any_order_and_type_the_values() {
    let text = b"course,last_name,student_id,first_name,grade,fee,enrolled,active\n\
                 math,Lovelace,S0001,Ada,97,12.50,2024-09-01,yes\n";
    let rows = read(text, &CsvFormat::default()).unwrap();
    let row = rows[0].as_ref().unwrap();
    assert_eq!(row[0], Cell::Text("S0001".into()));
    assert_eq!(row[1], Cell::Text("math".into()));
    assert_eq!(row[2], Cell::Text("Ada".into()));
    assert_eq!(row[4], Cell::Integer(97));
    assert_eq!(row[5], Cell::Decimal("12.50".into()));
    assert_eq!(row[6].canonical(), "2024-09-01");
    assert_eq!(row[7], Cell::Boolean(true));
}

#[test]
fn every_invalid_field_is_reported_with_line_column_value_and_reason() {
    let text = b"student_id,course,first_name,last_name,grade\n\
                 S0001,math,Ada,Lovelace,97\n\
                 X1,art,Alan,Turing,101\n\
                 S0003,physics,,Hopper,abc\n";
    let errors = only_errors(text);
    let found: Vec<(u64, &str, &str)> = errors
        .iter()
        .map(|e| (e.line, e.column.as_deref().unwrap(), e.reason.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                3,
                "student_id",
                "`X1` does not match the pattern `S[0-9]{4,}`"
            ),
            (
                3,
                "course",
                "`art` is not one of: biology, chemistry, math, physics"
            ),
            (3, "grade", "101 is above the maximum 100"),
            (4, "first_name", "a value is required"),
            (4, "grade", "`abc` is not an integer"),
        ]
    );
    assert_eq!(errors[0].value.as_deref(), Some("X1"));
}

#[test]
fn header_problems_reject_the_file_at_once() {
    let missing = read(
        b"student_id,first_name,last_name\nS0001,Ada,L\n",
        &CsvFormat::default(),
    );
    assert_eq!(
        missing.unwrap_err(),
        "line 1: the header lacks required column `course`"
    );
    let twice = read(
        b"student_id,course,course,first_name,last_name\n",
        &CsvFormat::default(),
    );
    assert_eq!(
        twice.unwrap_err(),
        "line 1: column `course` appears twice in the header (fields 2 and 3)"
    );
    let unknown = read(
        b"student_id,course,first_name,last_name,grde\n",
        &CsvFormat::default(),
    );
    let message = unknown.unwrap_err();
    assert!(
        message.starts_with(
            "line 1: unknown column `grde` in the header (field 5); did you mean `grade`?"
        ),
        "{message}"
    );
    let empty = read(b"", &CsvFormat::default());
    assert_eq!(empty.unwrap_err(), "line 1: the file is empty");
}

#[test]
fn unknown_columns_can_be_ignored() {
    let format = CsvFormat {
        unknown_columns: UnknownColumns::Ignore,
        ..CsvFormat::default()
    };
    let rows = read(
        b"student_id,notes,course,first_name,last_name\nS0001,hi,math,Ada,L\n",
        &format,
    )
    .unwrap();
    assert_eq!(rows[0].as_ref().unwrap()[1], Cell::Text("math".into()));
}

#[test]
fn bom_nulls_delimiters_and_escapes_follow_the_format() {
    let format = CsvFormat {
        delimiter: b';',
        quote: b'\'',
        escape: Some(b'\\'),
        null_values: vec!["NULL".into(), "\\N".into()],
        ..CsvFormat::default()
    };
    let text = "\u{feff}student_id;course;first_name;last_name;grade\n\
                S0001;math;'O\\'Brien; Pat';Doe;NULL\n\
                S0002;math;Kim;Lee;\\N\n";
    let rows = read(text.as_bytes(), &format).unwrap();
    let first = rows[0].as_ref().unwrap();
    assert_eq!(first[2], Cell::Text("O'Brien; Pat".into()));
    assert_eq!(first[4], Cell::Null);
    assert_eq!(rows[1].as_ref().unwrap()[4], Cell::Null);
}

#[test]
fn files_without_header_use_declared_columns() {
    let format = CsvFormat {
        header: false,
        columns: Some(vec![
            "student_id".into(),
            "course".into(),
            "first_name".into(),
            "last_name".into(),
        ]),
        ..CsvFormat::default()
    };
    let rows = read(b"S0001,math,Ada,Lovelace\n", &format).unwrap();
    assert_eq!(rows[0].as_ref().unwrap()[3], Cell::Text("Lovelace".into()));
}

#[test]
fn ragged_rows_and_open_quotes_are_pinpointed() {
    let errors = only_errors(b"student_id,course,first_name,last_name\nS0001,math,Ada\nS0002,math,\"Alan,Turing\nS0003,math,x,y\n");
    assert_eq!(errors[0].line, 2);
    assert_eq!(errors[0].reason, "expected 4 fields, found 3");
    assert_eq!(errors[1].line, 3);
    assert_eq!(
        errors[1].reason,
        "expected 4 fields, found 3 (the record spans lines 3–4: is a quote left open?)"
    );
}

#[test]
fn invalid_utf8_is_a_record_error_not_a_crash() {
    let errors = only_errors(b"student_id,course,first_name,last_name\nS0001,math,Ad\xffa,L\n");
    assert_eq!(errors[0].column.as_deref(), Some("first_name"));
    assert_eq!(errors[0].reason, "invalid UTF-8 at byte 2 of the field");
}

#[test]
fn a_ten_megabyte_line_is_read_and_checked() {
    let long = "x".repeat(10 * 1024 * 1024);
    let text = format!("student_id,course,first_name,last_name\nS0001,math,{long},L\n");
    let errors = only_errors(text.as_bytes());
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].reason,
        "10485760 characters, more than max_length 40"
    );
    assert!(errors[0].value.as_ref().unwrap().chars().count() <= 61);
}
