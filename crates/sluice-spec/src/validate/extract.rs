//! Checks of `sql-extract` parameters: a declared connection and buckets,
//! a known format and compression, and a key template that stays inside
//! its bucket.

use super::Cx;
use crate::locate::{At, YamlPath};
use crate::model::{
    SqlExtract, SQL_EXTRACT_COMPRESSIONS, SQL_EXTRACT_FORMATS, SQL_EXTRACT_KEY_VARIABLES,
};
use sluice_core::key_template::KeyTemplate;

pub(super) fn sql_extract(cx: &mut Cx, path: &YamlPath, params: &SqlExtract) {
    let d = cx.declared;
    cx.rep.check_ref(
        &path.key("connection"),
        At::Value,
        "connection",
        &params.connection,
        &d.connections,
    );
    cx.rep.check_ref(
        &path.key("to_bucket"),
        At::Value,
        "bucket",
        &params.to_bucket,
        &d.buckets,
    );
    if let Some(from) = &params.from_bucket {
        cx.rep.check_ref(
            &path.key("from_bucket"),
            At::Value,
            "bucket",
            from,
            &d.buckets,
        );
    }
    if params.from_bucket.is_some() != params.from_key.is_some() {
        let missing = if params.from_bucket.is_some() {
            "from_key"
        } else {
            "from_bucket"
        };
        cx.rep.error(
            path,
            format!("`from_bucket` and `from_key` name the SQL file together; add `{missing}`"),
        );
    }
    if let Some(format) = &params.format {
        cx.rep
            .check_one_of(&path.key("format"), "format", format, SQL_EXTRACT_FORMATS);
    }
    if let Some(compression) = &params.compression {
        cx.rep.check_one_of(
            &path.key("compression"),
            "compression",
            compression,
            SQL_EXTRACT_COMPRESSIONS,
        );
    }
    if let Err(e) = KeyTemplate::parse(params.key(), SQL_EXTRACT_KEY_VARIABLES) {
        cx.rep
            .error(&path.key("key"), format!("invalid key template: {e}"));
    }
}
