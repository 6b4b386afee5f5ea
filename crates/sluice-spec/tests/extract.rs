//! `sql-extract` parameters and fan-out over bucket objects: a valid
//! declaration loads; each mistake is reported at its line with its fix.

use sluice_spec::{parse_project, FanOutSource, Severity, SqlExtract};

const VALID: &str = r#"version: 1
buckets:
  queries: {}
  extracts: { versioning: true }
connections:
  warehouse: { url: "postgres://etl@db/wh" }
pipelines:
  nightly:
    phases:
      - name: extract
        uses: sql-extract
        fan_out: { over: { objects: { bucket: queries, prefix: sql/, suffix: .sql } } }
        with:
          connection: warehouse
          to_bucket: extracts
          key: "out/{name}/{date}.{ext}"
          format: parquet
          compression: zstd
          params: { region: "$.detail.region" }
"#;

#[test]
fn a_valid_extract_loads_with_its_fan_out_over_objects() {
    let project = parse_project("sluice.yaml", VALID).expect("valid");
    let phase = &project.pipelines["nightly"].phases[0];
    match &phase.fan_out.as_ref().unwrap().over {
        FanOutSource::Objects(o) => {
            assert_eq!(o.objects.bucket, "queries");
            assert_eq!(o.objects.suffix.as_deref(), Some(".sql"));
        }
        other => panic!("{other:?}"),
    }
    let params: SqlExtract = serde_json::from_value(phase.with.clone().unwrap()).unwrap();
    assert_eq!(params.key(), "out/{name}/{date}.{ext}");
    assert_eq!(params.params["region"], "$.detail.region");
}

/// The errors of `VALID` with `from` replaced by `to`, as `line:column: message`.
fn errors_with(from: &str, to: &str) -> Vec<String> {
    let text = VALID.replace(from, to);
    match parse_project("sluice.yaml", &text) {
        Ok(_) => panic!("expected errors after replacing {from:?} by {to:?}"),
        Err(d) => {
            d.0.into_iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
                .collect()
        }
    }
}

#[test]
fn mistakes_are_reported_where_they_are() {
    let e = errors_with("connection: warehouse", "connection: warehose");
    assert!(
        e[0].starts_with("14:23: no connection named `warehose`"),
        "{e:?}"
    );
    let e = errors_with("format: parquet", "format: xlsx");
    assert!(e[0].starts_with("17:19: unknown format `xlsx`"), "{e:?}");
    let e = errors_with("out/{name}", "../{name}");
    assert!(e[0].contains("`..` segment"), "{e:?}");
    let e = errors_with("{date}.{ext}", "{day}.{ext}");
    assert!(e[0].contains("unknown key variable `{day}`"), "{e:?}");
    let e = errors_with("\"out/{name}", "\"/abs/{name}");
    assert!(e[0].contains("absolute"), "{e:?}");
    let e = errors_with(
        "          compression: zstd\n",
        "          compresion: zstd\n",
    );
    assert!(e[0].contains("unknown field `compresion`"), "{e:?}");
    let e = errors_with("          connection: warehouse\n", "");
    assert!(e[0].contains("needs `with: { connection: NAME"), "{e:?}");
    let e = errors_with("bucket: queries,", "bucket: querys,");
    assert!(e[0].contains("no bucket named `querys`"), "{e:?}");
}
