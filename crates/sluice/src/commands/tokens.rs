//! `sluice token create|list|revoke`: API tokens, managed through the API of
//! the running Sluice with an admin token (see ARCHITECTURE.md, "The CLI is a
//! client of the HTTP API").

use crate::client::Client;
use crate::output;
use anyhow::Result;
use serde_json::{json, Value};
use std::process::ExitCode;
use std::time::Duration;

pub async fn create(
    client: &Client,
    name: &str,
    pipelines: Vec<String>,
    expires_in: Option<Duration>,
    as_json: bool,
) -> Result<ExitCode> {
    let expires_at = expires_in.map(|d| sluice_core::time::now_ms() + d.as_millis() as i64);
    let pipelines = (!pipelines.is_empty()).then_some(pipelines);
    let body = json!({ "name": name, "pipelines": pipelines, "expires_at": expires_at });
    let created: Value = client.post("/v1/tokens", &body).await?;
    if as_json {
        output::print_json(&created);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}", created["token"].as_str().unwrap_or_default());
    eprintln!(
        "token {} ({}, scope {}{}) created; this is the only time its secret is shown",
        created["id"].as_str().unwrap_or("?"),
        name,
        scope(&created["scope"]),
        match created["expires_at"].as_i64() {
            Some(_) => format!(", expires {} UTC", output::time(&created["expires_at"])),
            None => String::new(),
        }
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn list(client: &Client, as_json: bool) -> Result<ExitCode> {
    let tokens: Vec<Value> = client.get("/v1/tokens").await?;
    if as_json {
        output::print_json(&Value::Array(tokens));
        return Ok(ExitCode::SUCCESS);
    }
    if tokens.is_empty() {
        println!("no tokens");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<21} {:<20} {:<24} {:<23} STATE",
        "ID", "NAME", "SCOPE", "EXPIRES (UTC)"
    );
    let now = sluice_core::time::now_ms();
    for t in &tokens {
        let state = if t["revoked_at"].is_i64() {
            "revoked"
        } else if t["expires_at"].as_i64().is_some_and(|at| at <= now) {
            "expired"
        } else {
            "active"
        };
        println!(
            "{:<21} {:<20} {:<24} {:<23} {state}",
            t["id"].as_str().unwrap_or("?"),
            t["name"].as_str().unwrap_or("?"),
            scope(&t["scope"]),
            output::time(&t["expires_at"]),
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn revoke(client: &Client, id: &str, as_json: bool) -> Result<ExitCode> {
    let token: Value = client
        .post(&format!("/v1/tokens/{id}/revoke"), &Value::Null)
        .await?;
    if as_json {
        output::print_json(&token);
    } else {
        println!(
            "token {id} revoked at {} UTC",
            output::time(&token["revoked_at"])
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `admin`, `all`, or `pipelines: a, b` from the API's JSON.
fn scope(scope: &Value) -> String {
    match scope {
        Value::String(s) => s.clone(),
        Value::Object(map) => match map.get("pipelines").and_then(Value::as_array) {
            Some(names) => format!(
                "pipelines: {}",
                names
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => scope.to_string(),
        },
        other => other.to_string(),
    }
}
