//! Checks of buckets, tables and connections.

use super::{at, Cx};
use crate::locate::{At, YamlPath};
use crate::model::{Project, Storage, DATABASE_SCHEMES, S3_EVENTS};

pub(super) fn buckets(cx: &mut Cx, project: &Project) {
    for (name, bucket) in &project.buckets {
        let path = at("buckets", name);
        if let Storage::S3(s3) = &bucket.storage {
            if s3.bucket.trim().is_empty() {
                cx.rep.error(
                    &path.key("storage").key("s3").key("bucket"),
                    "`bucket` must not be empty",
                );
            }
        }
        for (i, n) in bucket.notifications.iter().enumerate() {
            let np = path.key("notifications").index(i);
            s3_events(cx, &np.key("events"), &n.events, true);
            cx.target(&np.key("target"), &n.target);
        }
    }
}

/// Check S3 event type names (`required`: the list must not be empty).
pub(super) fn s3_events(cx: &mut Cx, path: &YamlPath, events: &[String], required: bool) {
    if required && events.is_empty() {
        cx.rep.error(
            path,
            "`events` must list at least one S3 event type, e.g. `s3:ObjectCreated:*`",
        );
    }
    for (i, e) in events.iter().enumerate() {
        cx.rep
            .check_one_of(&path.index(i), "S3 event type", e, S3_EVENTS);
    }
}

/// Column names are SQL identifiers.
fn valid_column(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn tables(cx: &mut Cx, project: &Project) {
    for (name, table) in &project.tables {
        let path = at("tables", name);
        if let Some(conn) = &table.connection {
            cx.rep.check_ref(
                &path.key("connection"),
                At::Value,
                "connection",
                conn,
                &cx.declared.connections,
            );
        }
        for (col, c) in &table.columns {
            let cp = path.key("columns").key(col);
            if !valid_column(col) {
                cx.rep.error_key(
                    &cp,
                    format!("invalid column name `{col}`: use letters, digits and `_`, not starting with a digit"),
                );
            }
            let is_string = c.kind == crate::model::ColumnType::String;
            if c.max_length.is_some() && !is_string {
                cx.rep.error_key(
                    &cp.key("max_length"),
                    "`max_length` only applies to `string` columns",
                );
            }
            if let Some(re) = &c.regex {
                if !is_string {
                    cx.rep
                        .error_key(&cp.key("regex"), "`regex` only applies to `string` columns");
                } else if let Err(e) = regex_syntax::Parser::new().parse(re) {
                    let text = e.to_string();
                    let last = text.lines().last().unwrap_or_default().trim();
                    let first = last.strip_prefix("error: ").unwrap_or(last).to_string();
                    cx.rep.error(
                        &cp.key("regex"),
                        format!("invalid regular expression `{re}`: {first}"),
                    );
                }
            }
            for (key, v) in [("min", c.min), ("max", c.max)] {
                if v.is_some() && !c.kind.is_numeric() {
                    cx.rep.error_key(
                        &cp.key(key),
                        format!("`{key}` only applies to `integer`, `decimal` and `float` columns"),
                    );
                }
            }
            if let (Some(min), Some(max)) = (c.min, c.max) {
                if min > max {
                    cx.rep.error(
                        &cp.key("min"),
                        format!("`min` ({min}) is greater than `max` ({max})"),
                    );
                }
            }
            if c.allowed.as_ref().is_some_and(Vec::is_empty) {
                cx.rep
                    .error(&cp.key("enum"), "`enum` must list at least one value");
            }
        }
        if let Some(key) = &table.key {
            let kp = path.key("key");
            let columns: Vec<String> = table.columns.keys().cloned().collect();
            cx.rep.check_ref(
                &kp.key("partition"),
                At::Value,
                "column",
                &key.partition,
                &columns,
            );
            if let Some(sort) = &key.sort {
                cx.rep
                    .check_ref(&kp.key("sort"), At::Value, "column", sort, &columns);
                if *sort == key.partition {
                    cx.rep.error(
                        &kp.key("sort"),
                        "the sort column must differ from the partition column",
                    );
                }
            }
        }
    }
}

pub(super) fn connections(cx: &mut Cx, project: &Project) {
    for (name, conn) in &project.connections {
        let path = at("connections", name);
        let prefix = conn.url.literal_prefix();
        if let Some((scheme, _)) = prefix.split_once(':') {
            cx.rep.check_one_of(
                &path.key("url"),
                "database URL scheme",
                scheme,
                DATABASE_SCHEMES,
            );
        } else if conn.url.is_literal() {
            cx.rep.error(
                &path.key("url"),
                format!(
                    "a connection URL starts with a scheme: {}",
                    DATABASE_SCHEMES.join(", ")
                ),
            );
        }
        if let Some(pool) = &conn.pool {
            cx.at_least_one(&path.key("pool").key("max"), "`pool.max`", pool.max);
            if conn.pool_min() > conn.pool_max() {
                cx.rep.error(
                    &path.key("pool").key("min"),
                    format!(
                        "`pool.min` ({}) is greater than `pool.max` ({})",
                        conn.pool_min(),
                        conn.pool_max()
                    ),
                );
            }
        }
        cx.positive(
            &path.key("connect_timeout"),
            "`connect_timeout`",
            conn.connect_timeout,
        );
        cx.positive(
            &path.key("query_timeout"),
            "`query_timeout`",
            conn.query_timeout,
        );
    }
}
