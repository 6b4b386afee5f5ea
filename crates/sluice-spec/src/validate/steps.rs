//! Checks of built-in step parameters (`with:`), typed by [`crate::model::steps`]
//! so a misspelt or mistyped parameter is reported at its line.

use super::Cx;
use crate::deser::deserialize_at;
use crate::locate::{At, YamlPath};
use crate::model::{Builtin, CsvLoad, Destination, Notify, SqlExtract, TablePut};

pub(super) fn builtin_params(
    cx: &mut Cx,
    path: &YamlPath,
    builtin: Builtin,
    with: Option<&serde_json::Value>,
) {
    let empty = serde_json::Value::Object(Default::default());
    let with = with.unwrap_or(&empty);
    let Ok(value) = serde_yaml_ng::to_value(with) else {
        return;
    };
    match builtin {
        Builtin::CsvLoad => {
            if with.get("table").is_none() {
                cx.rep.error(
                    path,
                    "`csv-load` needs `with: { table: NAME }` naming the table to load into",
                );
                return;
            }
            if let Some(params) = deserialize_at::<CsvLoad>(cx.rep, path, value) {
                csv_load(cx, path, &params);
            }
        }
        Builtin::TablePut => {
            if with.get("table").is_none() {
                cx.rep.error(
                    path,
                    "`table-put` needs `with: { table: NAME }` naming the table to write into",
                );
                return;
            }
            if let Some(params) = deserialize_at::<TablePut>(cx.rep, path, value) {
                cx.rep.check_ref(
                    &path.key("table"),
                    At::Value,
                    "table",
                    &params.table,
                    &cx.declared.tables,
                );
                if let Some(records) = &params.records {
                    if !records.starts_with('$') {
                        cx.rep.error(
                            &path.key("records"),
                            format!("`records` is a path into the input like `$.items`, not `{records}`"),
                        );
                    }
                }
            }
        }
        Builtin::Notify => {
            if with.get("topic").is_none() {
                cx.rep.error(path, "`notify` needs `with: { topic: NAME }`");
                return;
            }
            if let Some(params) = deserialize_at::<Notify>(cx.rep, path, value) {
                cx.rep.check_ref(
                    &path.key("topic"),
                    At::Value,
                    "topic",
                    &params.topic,
                    &cx.declared.topics,
                );
            }
        }
        Builtin::SqlExtract => {
            if with.get("connection").is_none() || with.get("to_bucket").is_none() {
                cx.rep.error(
                    path,
                    "`sql-extract` needs `with: { connection: NAME, to_bucket: BUCKET }`: the connection to query and the bucket results go to",
                );
                return;
            }
            if let Some(params) = deserialize_at::<SqlExtract>(cx.rep, path, value) {
                super::extract::sql_extract(cx, path, &params);
            }
        }
        Builtin::Move | Builtin::Copy | Builtin::Pass => {}
    }
}

fn csv_load(cx: &mut Cx, path: &YamlPath, params: &CsvLoad) {
    cx.rep.check_ref(
        &path.key("table"),
        At::Value,
        "table",
        &params.table,
        &cx.declared.tables,
    );
    for (key, c) in [
        ("delimiter", params.delimiter),
        ("quote", params.quote),
        ("escape", params.escape),
    ] {
        if let Some(c) = c {
            if !c.is_ascii() || c == '\n' || c == '\r' {
                cx.rep.error(
                    &path.key(key),
                    format!(
                        "`{key}` must be one ASCII character other than a line break, found {c:?}"
                    ),
                );
            }
        }
    }
    if params.delimiter.is_some() && params.delimiter == params.quote {
        cx.rep
            .error(&path.key("quote"), "`quote` must differ from `delimiter`");
    }
    if params.batch_size == Some(0) {
        cx.rep
            .error(&path.key("batch_size"), "`batch_size` must be at least 1");
    }
    if params.columns.as_ref().is_some_and(Vec::is_empty) {
        cx.rep.error(
            &path.key("columns"),
            "`columns` must name at least one column",
        );
    }
    for (key, dest) in [("archive", &params.archive), ("error", &params.error)] {
        if let Some(Destination { bucket, .. }) = dest {
            cx.rep.check_ref(
                &path.key(key).key("bucket"),
                At::Value,
                "bucket",
                bucket,
                &cx.declared.buckets,
            );
        }
    }
}
