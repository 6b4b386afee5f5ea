//! The CLI's client of the Sluice HTTP API.

use anyhow::{anyhow, Context, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// The default API address of `sluice up`.
pub const DEFAULT_API: &str = "http://127.0.0.1:7600";

/// Where a running `sluice up` recorded its API address, relative to the project.
pub const API_FILE: &str = ".sluice/api.json";

/// Where `sluice up` keeps the admin token for the local CLI (when the API
/// requires tokens), relative to the project.
pub const ADMIN_TOKEN_FILE: &str = ".sluice/admin-token";

pub struct Client {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl Client {
    /// Resolves the API address: the flag or `SLUICE_API`, else the address
    /// recorded by `sluice up` in `./.sluice/api.json`, else the default.
    /// The token is the flag or `SLUICE_TOKEN`, else the admin token `sluice up`
    /// wrote to `./.sluice/admin-token`, if any.
    pub fn new(api: Option<&str>, token: Option<&str>) -> Result<Client> {
        let base = match api {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => recorded_api(Path::new(API_FILE)).unwrap_or_else(|| DEFAULT_API.to_string()),
        };
        let token = match token {
            Some(t) => Some(t.trim().to_string()),
            None => std::fs::read_to_string(ADMIN_TOKEN_FILE)
                .ok()
                .map(|t| t.trim().to_string()),
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .context("building the HTTP client")?;
        Ok(Client { base, http, token })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T> {
        self.post_with(path, body, None).await
    }

    pub async fn post_with<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> Result<T> {
        let mut request = self.http.post(self.url(path)).json(body);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        self.send(request).await
    }

    /// Opens a streaming GET (a Server-Sent Events feed), resuming after
    /// `last_event_id` when given; the answer's status is checked.
    pub async fn open_stream(
        &self,
        path: &str,
        last_event_id: Option<i64>,
    ) -> Result<reqwest::Response> {
        let mut request = self
            .http
            .get(self.url(path))
            .header("Accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|err| anyhow!("cannot reach Sluice at {}: {err}", self.base))?;
        if !response.status().is_success() {
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let message = body["error"]["message"].as_str().unwrap_or("");
            return Err(anyhow!("{status}: {message}"));
        }
        Ok(response)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.map_err(|err| {
            if err.is_connect() {
                anyhow!(
                    "cannot reach Sluice at {}: is `sluice up` running? (point --api or SLUICE_API at it)",
                    self.base
                )
            } else {
                anyhow!("request to {} failed: {err}", self.base)
            }
        })?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .with_context(|| format!("reading the answer from {}", self.base))?;
        if !status.is_success() {
            let message = body["error"]["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| body.to_string());
            return Err(anyhow!("{message}"));
        }
        serde_json::from_value(body).context("unexpected answer from the Sluice API")
    }
}

fn recorded_api(file: &Path) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let value: Value = serde_json::from_str(&text).ok()?;
    value["api"].as_str().map(str::to_string)
}

/// Reads a JSON document from a file path, or from stdin for `-`.
pub fn read_json_arg(arg: Option<&str>) -> Result<Value> {
    let Some(arg) = arg else {
        return Ok(Value::Null);
    };
    let (text, source) = if arg == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("reading stdin")?;
        (text, "stdin".to_string())
    } else {
        (
            std::fs::read_to_string(arg).with_context(|| format!("reading {arg}"))?,
            arg.to_string(),
        )
    };
    serde_json::from_str(&text).map_err(|err| {
        anyhow!(
            "{source}:{}:{}: not valid JSON: {err}",
            err.line(),
            err.column()
        )
    })
}
