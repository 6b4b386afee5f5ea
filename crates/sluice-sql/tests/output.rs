//! Writing results: every format and compression from the same batches,
//! read back with an independent reader where one exists.

use arrow_array::builder::{Decimal128Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow_schema::Schema;
use sluice_sql::output::{export, Compression, ExportError, Format, OutputSpec};
use sluice_sql::{ColumnType, Rows, SqlError};
use std::io::{Read, Seek};
use std::sync::Arc;

fn batch() -> RecordBatch {
    let types = [
        ColumnType::Int64,
        ColumnType::Text,
        ColumnType::decimal(6, 2).unwrap(),
        ColumnType::Float64,
        ColumnType::TimestampUtc,
        ColumnType::Json,
    ];
    let names = ["id", "name", "amount", "ratio", "at", "doc"];
    let fields: Vec<_> = types
        .iter()
        .zip(names)
        .map(|(t, n)| t.field(n, "test"))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let mut name = StringBuilder::new();
    name.append_value("plain");
    name.append_value("a, \"b\"\nc");
    name.append_value("");
    let mut amount = Decimal128Builder::new()
        .with_precision_and_scale(6, 2)
        .unwrap();
    amount.append_value(1234);
    amount.append_value(-5);
    amount.append_null();
    let mut at = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    at.append_value(1_714_528_984_500_000);
    at.append_null();
    at.append_value(0);
    let mut doc = StringBuilder::new();
    doc.append_value("{\"a\":[1,2]}");
    doc.append_null();
    doc.append_value("null");
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![Some(1), Some(2), None])),
        Arc::new(name.finish()),
        Arc::new(amount.finish()),
        Arc::new(Float64Array::from(vec![0.5, f64::NAN, 1e21])),
        Arc::new(at.finish()),
        Arc::new(doc.finish()),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

fn rows(batches: Vec<Result<RecordBatch, SqlError>>) -> Rows {
    Rows {
        schema: batch().schema(),
        batches: Box::pin(futures::stream::iter(batches)),
    }
}

async fn write(spec: OutputSpec, batches: Vec<Result<RecordBatch, SqlError>>) -> Vec<u8> {
    let file = tempfile::tempfile().unwrap();
    let written = export(rows(batches), spec, file.try_clone().unwrap())
        .await
        .unwrap();
    let mut file = file;
    file.rewind().unwrap();
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).unwrap();
    assert_eq!(written.bytes, bytes.len() as u64, "counts the file's bytes");
    bytes
}

fn spec(format: Format, compression: Compression) -> OutputSpec {
    OutputSpec {
        format,
        compression,
    }
}

const CSV: &str = "id,name,amount,ratio,at,doc
1,plain,12.34,0.5,2024-05-01T02:03:04.500000Z,\"{\"\"a\"\":[1,2]}\"
2,\"a, \"\"b\"\"
c\",-0.05,NaN,,
,\"\",,1e21,1970-01-01T00:00:00Z,null
";

#[tokio::test]
async fn csv_has_a_header_quotes_when_needed_and_tells_null_from_empty() {
    let out = write(spec(Format::Csv, Compression::None), vec![Ok(batch())]).await;
    assert_eq!(String::from_utf8(out).unwrap(), CSV);
}

#[tokio::test]
async fn json_lines_keep_types_and_embed_json_columns() {
    let out = write(
        spec(Format::JsonLines, Compression::None),
        vec![Ok(batch())],
    )
    .await;
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(
        lines[0],
        serde_json::json!({"id": 1, "name": "plain", "amount": 12.34, "ratio": 0.5,
            "at": "2024-05-01T02:03:04.500000Z", "doc": {"a": [1, 2]}})
    );
    assert_eq!(lines[1]["name"], "a, \"b\"\nc");
    assert_eq!(
        lines[1]["ratio"],
        serde_json::Value::Null,
        "NaN is null in JSON"
    );
    assert_eq!(lines[2]["id"], serde_json::Value::Null);
    assert!(
        text.lines().nth(1).unwrap().contains("\"amount\":-0.05"),
        "exact decimals"
    );
}

#[tokio::test]
async fn text_formats_compress_as_a_whole() {
    let gz = write(spec(Format::Csv, Compression::Gzip), vec![Ok(batch())]).await;
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, CSV);
    let zst = write(spec(Format::Csv, Compression::Zstd), vec![Ok(batch())]).await;
    assert_eq!(
        String::from_utf8(zstd::decode_all(&zst[..]).unwrap()).unwrap(),
        CSV
    );
    assert_eq!(
        spec(Format::JsonLines, Compression::Zstd).extension(),
        "jsonl.zst"
    );
}

#[tokio::test]
async fn parquet_round_trips_types_and_values() {
    for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
        let expected = batch();
        let out = write(
            spec(Format::Parquet, compression),
            vec![Ok(expected.clone()), Ok(expected.clone())],
        )
        .await;
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            bytes::Bytes::from(out),
        )
        .unwrap()
        .build()
        .unwrap();
        let read: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
        let total: usize = read.iter().map(|b| b.num_rows()).sum();
        assert_eq!(total, 6);
        let first = &read[0];
        for (i, field) in expected.schema().fields().iter().enumerate() {
            assert_eq!(
                first.schema().field(i).data_type(),
                field.data_type(),
                "{compression:?}"
            );
        }
        assert_eq!(&first.slice(0, 3).columns()[2], &expected.columns()[2]);
    }
    assert_eq!(
        spec(Format::Parquet, Compression::Zstd).extension(),
        "parquet"
    );
}

#[tokio::test]
async fn a_query_failing_part_way_fails_the_export() {
    let failure = SqlError::Query {
        message: "division by zero".into(),
        code: None,
        position: None,
    };
    let file = tempfile::tempfile().unwrap();
    let result = export(
        rows(vec![Ok(batch()), Err(failure)]),
        spec(Format::Csv, Compression::Gzip),
        file,
    )
    .await;
    match result {
        Err(ExportError::Query(e)) => assert!(e.to_string().contains("division by zero")),
        other => panic!("expected the query's error, got {other:?}"),
    }
}
