//! `sluice table list` and `sluice table query`: read tables through the API.

use crate::cli::TableCommand;
use crate::client::Client;
use crate::output;
use anyhow::Result;
use serde_json::Value;
use std::process::ExitCode;

pub async fn list(client: &Client, json: bool) -> Result<ExitCode> {
    let tables: Vec<Value> = client.get("/v1/tables").await?;
    if json {
        output::print_json(&Value::Array(tables));
        return Ok(ExitCode::SUCCESS);
    }
    for t in &tables {
        let key = match t["key"]["sort"].as_str() {
            Some(sort) => format!("{} + {sort}", t["key"]["partition"].as_str().unwrap_or("?")),
            None => t["key"]["partition"].as_str().unwrap_or("?").to_string(),
        };
        let columns: Vec<String> = t["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                format!(
                    "{}:{}",
                    c["name"].as_str().unwrap_or("?"),
                    c["type"].as_str().unwrap_or("?")
                )
            })
            .collect();
        println!(
            "{}  key ({key})  in {}\n    {}",
            t["name"].as_str().unwrap_or("?"),
            t["database"].as_str().unwrap_or("?"),
            columns.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints each item as one JSON line, following cursors unless `--one-page`;
/// a last line on stderr tells the count (and the cursor, if one page).
pub async fn query(client: &Client, command: TableCommand) -> Result<ExitCode> {
    let TableCommand::Query {
        table,
        pk,
        sk,
        sk_from,
        sk_to,
        begins_with,
        limit,
        mut cursor,
        one_page,
    } = command
    else {
        unreachable!("dispatched only for `table query`");
    };
    let mut params: Vec<(&str, String)> = vec![("pk", pk), ("limit", limit.to_string())];
    for (name, value) in [
        ("sk", sk),
        ("sk_from", sk_from),
        ("sk_to", sk_to),
        ("sk_begins_with", begins_with),
    ] {
        if let Some(v) = value {
            params.push((name, v));
        }
    }
    let mut total = 0usize;
    loop {
        let mut query = params.clone();
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let encoded: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        let page: Value = client
            .get(&format!(
                "/v1/tables/{}/items?{}",
                encode(&table),
                encoded.join("&")
            ))
            .await?;
        for item in page["items"].as_array().into_iter().flatten() {
            println!("{item}");
            total += 1;
        }
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() || one_page {
            break;
        }
    }
    match (&cursor, one_page) {
        (Some(c), true) => eprintln!("{total} items; more after --cursor {c}"),
        _ => eprintln!("{total} items"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
