//! Matching a file's columns to a table's: by header name in any order, or
//! by the declared order when the file has no header.

use super::FileRejected;
use crate::schema::TableSchema;
use csv::ByteRecord;
use sluice_spec::UnknownColumns;

/// Maps each header field to a table column, or rejects the file.
pub(super) fn map_header(
    schema: &TableSchema,
    header: &ByteRecord,
    unknown: UnknownColumns,
) -> Result<Vec<Option<usize>>, FileRejected> {
    let line = header.position().map_or(1, |p| p.line());
    let reject = |reason: String| FileRejected { line, reason };
    let mut mapping = Vec::with_capacity(header.len());
    let mut seen: Vec<Option<usize>> = vec![None; schema.columns.len()];
    for (i, field) in header.iter().enumerate() {
        let name = std::str::from_utf8(field)
            .map_err(|_| reject(format!("header field {} is not valid UTF-8", i + 1)))?
            .trim();
        let position = schema.column(name).or_else(|| {
            schema
                .columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(name))
        });
        match position {
            Some(p) => {
                if let Some(first) = seen[p] {
                    return Err(reject(format!(
                        "column `{}` appears twice in the header (fields {} and {})",
                        schema.columns[p].name,
                        first + 1,
                        i + 1
                    )));
                }
                seen[p] = Some(i);
                mapping.push(Some(p));
            }
            None if unknown == UnknownColumns::Ignore => mapping.push(None),
            None => {
                let names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
                let hint = names
                    .iter()
                    .map(|n| {
                        (
                            strsim::levenshtein(&n.to_lowercase(), &name.to_lowercase()),
                            *n,
                        )
                    })
                    .filter(|(d, _)| *d <= 2)
                    .min()
                    .map(|(_, n)| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                return Err(reject(format!(
                    "unknown column `{name}` in the header (field {}){hint}; table `{}` has: {}",
                    i + 1,
                    schema.name,
                    names.join(", ")
                )));
            }
        }
    }
    let missing: Vec<&str> = schema
        .columns
        .iter()
        .enumerate()
        .filter(|(p, c)| seen[*p].is_none() && (c.required || schema.is_key(*p)))
        .map(|(_, c)| c.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(reject(format!(
            "the header lacks required column{} `{}`",
            if missing.len() > 1 { "s" } else { "" },
            missing.join("`, `")
        )));
    }
    Ok(mapping)
}

/// The mapping of a file without a header: `columns` in file order, or the
/// table's own order.
pub(super) fn map_declared(
    schema: &TableSchema,
    columns: Option<&[String]>,
) -> Result<Vec<Option<usize>>, FileRejected> {
    match columns {
        None => Ok((0..schema.columns.len()).map(Some).collect()),
        Some(names) => names
            .iter()
            .map(|n| {
                schema.column(n).map(Some).ok_or_else(|| FileRejected {
                    line: 1,
                    reason: format!("`columns` names `{n}`, which table `{}` lacks", schema.name),
                })
            })
            .collect(),
    }
}
