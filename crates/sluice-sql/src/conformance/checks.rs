//! Conformance checks of results: types, values, ordering, batching,
//! literals, and the errors of queries the database refuses.

use super::{collect, csv_of, Harness};
use crate::{Dialect, SqlError, BATCH_ROWS};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::RecordBatch;
use arrow_schema::DataType;
use serde_json::json;
use std::collections::BTreeMap;

/// The integers of column `index`, whatever their width.
pub fn ints(batch: &RecordBatch, index: usize) -> Vec<i64> {
    let column = batch.column(index);
    match column.data_type() {
        DataType::Int32 => column
            .as_primitive::<Int32Type>()
            .values()
            .iter()
            .map(|v| i64::from(*v))
            .collect(),
        DataType::Int64 => column.as_primitive::<Int64Type>().values().to_vec(),
        other => panic!("column {index} is {other}, not an integer"),
    }
}

pub async fn types_map_and_values_read_the_same_everywhere(h: Harness) {
    let w = h.open();
    let t = h.table("types");
    let (ddl, insert, expected_row) = match h.dialect {
        Dialect::Postgres => (
            "id bigint, small smallint, amount numeric(10,2), ratio double precision, name text, \
             active boolean, day date, at timestamp, at_utc timestamptz, data bytea, doc jsonb",
            "1, -5, 12.34, 0.5, 'Zoë, \"quoted\"', true, '2024-05-01', '2024-05-01 02:03:04.5', \
             '2024-05-01 02:03:04.5+00', '\\x00ff', '{\"a\": 1}'",
            "1,-5,12.34,0.5,\"Zoë, \"\"quoted\"\"\",true,2024-05-01,2024-05-01T02:03:04.500000,\
             2024-05-01T02:03:04.500000Z,00ff,\"{\"\"a\"\": 1}\"",
        ),
        Dialect::MySql => (
            "id BIGINT, small SMALLINT, amount DECIMAL(10,2), ratio DOUBLE, name VARCHAR(64), \
             active BOOLEAN, day DATE, at DATETIME(6), at_utc TIMESTAMP(6) NULL, data VARBINARY(8), \
             doc JSON",
            "1, -5, 12.34, 0.5, 'Zoë, \"quoted\"', TRUE, '2024-05-01', '2024-05-01 02:03:04.5', \
             '2024-05-01 02:03:04.5', X'00ff', '{\"a\": 1}'",
            "1,-5,12.34,0.5,\"Zoë, \"\"quoted\"\"\",1,2024-05-01,2024-05-01T02:03:04.500000,\
             2024-05-01T02:03:04.500000Z,00ff,\"{\"\"a\"\": 1}\"",
        ),
        Dialect::Sqlite => (
            "id INTEGER, small INTEGER, amount REAL, ratio REAL, name TEXT, active BOOLEAN, \
             day DATE, at TIMESTAMP, at_utc TIMESTAMP, data BLOB, doc JSON",
            "1, -5, 12.34, 0.5, 'Zoë, \"quoted\"', 1, '2024-05-01', '2024-05-01 02:03:04.5', \
             '2024-05-01T02:03:04.5Z', X'00ff', '{\"a\": 1}'",
            "1,-5,12.34,0.5,\"Zoë, \"\"quoted\"\"\",true,2024-05-01,2024-05-01 02:03:04.5,\
             2024-05-01T02:03:04.5Z,00ff,\"{\"\"a\"\": 1}\"",
        ),
    };
    let suffix = if h.dialect == Dialect::MySql {
        " DEFAULT CHARSET=utf8mb4"
    } else {
        ""
    };
    w.execute(&format!("CREATE TABLE {t} ({ddl}){suffix}"))
        .await
        .expect("create table");
    let nulls = ["NULL"; 10].join(", ");
    w.execute(&format!("INSERT INTO {t} VALUES ({insert}), (2, {nulls})"))
        .await
        .expect("insert rows");
    let sql = format!("SELECT * FROM {t} ORDER BY id");
    let rows = w.query(&sql).await.expect("query");
    let types: Vec<DataType> = rows
        .schema
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    drop(rows);
    let csv = csv_of(w.as_ref(), &sql).await;
    h.drop_table(w.as_ref(), &t).await;
    let header = "id,small,amount,ratio,name,active,day,at,at_utc,data,doc";
    assert_eq!(
        csv,
        format!("{header}\n{expected_row}\n2,,,,,,,,,,\n"),
        "the same values read the same from every database"
    );
    assert_eq!(types[0], DataType::Int64, "bigint");
    assert_eq!(types[9], DataType::Binary, "binary data");
    if h.dialect != Dialect::Sqlite {
        assert_eq!(types[1], DataType::Int16, "smallint");
        assert_eq!(types[2], DataType::Decimal128(10, 2), "decimal(10,2)");
        assert_eq!(types[6], DataType::Date32, "date");
    }
}

pub async fn large_results_stream_in_bounded_batches_in_order(h: Harness) {
    let w = h.open();
    let t = h.digits(w.as_ref()).await;
    let sql = format!(
        "SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n \
         FROM {t} a, {t} b, {t} c, {t} e, {t} f ORDER BY n"
    );
    let rows = w.query(&sql).await.expect("query");
    let (batches, error) = collect(rows).await;
    h.drop_table(w.as_ref(), &t).await;
    assert!(error.is_none(), "{error:?}");
    assert!(
        batches.iter().all(|b| b.num_rows() <= BATCH_ROWS),
        "batches are bounded"
    );
    assert!(
        batches.len() >= 100_000 / BATCH_ROWS,
        "the result streams in many batches"
    );
    let all: Vec<i64> = batches.iter().flat_map(|b| ints(b, 0)).collect();
    assert_eq!(all.len(), 100_000);
    assert!(
        all.iter().enumerate().all(|(i, n)| *n == i as i64),
        "in order"
    );
}

pub async fn an_empty_result_keeps_its_columns(h: Harness) {
    let w = h.open();
    let t = h.digits(w.as_ref()).await;
    let rows = w
        .query(&format!(
            "SELECT d AS digit, d * 2 AS twice FROM {t} WHERE d > 100"
        ))
        .await
        .expect("query");
    let names: Vec<&str> = rows
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["digit", "twice"]);
    let (batches, error) = collect(rows).await;
    assert!(error.is_none() && batches.iter().all(|b| b.num_rows() == 0));
    let csv = csv_of(w.as_ref(), &format!("SELECT d FROM {t} WHERE d < 0")).await;
    h.drop_table(w.as_ref(), &t).await;
    assert_eq!(csv, "d\n", "a header and no rows");
}

pub async fn literals_and_templates_round_trip_hostile_text(h: Harness) {
    let w = h.open();
    let hostile = [
        "it's",
        "back\\slash",
        "\\' OR 1=1 --",
        "Zoë 🚀",
        "two\nlines",
        "",
    ];
    for text in hostile {
        let sql = format!("SELECT {} AS v", w.dialect().quote_literal(text));
        let (batches, error) = collect(w.query(&sql).await.expect("query")).await;
        assert!(error.is_none(), "{sql}: {error:?}");
        let got = batches[0].column(0).as_string::<i32>().value(0).to_string();
        assert_eq!(got, text, "{sql}");
        let values = BTreeMap::from([("params".to_string(), json!({ "v": text }))]);
        let rendered = crate::template::render("SELECT {{ params.v }} AS v", &values, w.dialect())
            .expect("render");
        let (batches, _) = collect(w.query(&rendered.sql).await.expect("query")).await;
        assert_eq!(batches[0].column(0).as_string::<i32>().value(0), text);
    }
}

pub async fn syntax_errors_say_line_and_column(h: Harness) {
    let w = h.open();
    let sql = "SELECT 1 AS one,\n  FROM nowhere";
    let error = w.query(sql).await.err().expect("a syntax error");
    let position = error
        .position()
        .unwrap_or_else(|| panic!("no position in {error}"));
    assert_eq!((position.line, position.column), (2, 3), "{error}");
    assert!(error.to_string().contains("at line 2, column 3"), "{error}");
}

pub async fn unknown_tables_are_query_errors(h: Harness) {
    let w = h.open();
    let missing = h.table("missing");
    let error = w
        .query(&format!("SELECT * FROM {missing}"))
        .await
        .err()
        .expect("an error");
    assert!(matches!(error, SqlError::Query { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&missing),
        "names the table: {error}"
    );
}

pub async fn statements_without_rows_are_refused(h: Harness) {
    let w = h.open();
    let t = h.digits(w.as_ref()).await;
    let result = w.query(&format!("UPDATE {t} SET d = d WHERE d < 0")).await;
    h.drop_table(w.as_ref(), &t).await;
    assert!(
        matches!(result, Err(SqlError::NoResultSet)),
        "{:?}",
        result.err()
    );
}
