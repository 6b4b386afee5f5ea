//! Who may call the API: bearer API tokens checked against what each route needs.
//!
//! With [`AuthMode::Required`] every route but `/v1/health` and
//! `/v1/openapi.json` needs `Authorization: Bearer sluice_…`:
//!
//! * no token, or one that is unknown, revoked or expired → `401` with
//!   `WWW-Authenticate: Bearer error="invalid_token"` and a message naming
//!   the token (an expired token is an authentication failure: the client
//!   must get a new one, as RFC 6750 says);
//! * a valid token whose scope does not cover the route → `403`.
//!
//! What a route needs ([`Access`]) follows from its path: `/v1/tokens…` needs
//! an admin token; a pipeline's routes and its runs' routes need a token
//! scoped to that pipeline (or `all`); everything else needs `all`.
//! With [`AuthMode::Off`] the API checks nothing (the default on loopback).

use crate::ApiError;
use axum::extract::{MatchedPath, RawPathParams, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sluice_core::token::{Access, TokenError};
use sluice_core::RunKind;
use sluice_engine::Engine;

/// Whether the `/v1` API demands tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Anyone who can reach the port may call the API.
    Off,
    /// Every call but health and the OpenAPI document needs a token.
    Required,
}

/// What a route needs, before the run lookup of run routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Need {
    Public,
    Access(Access),
    /// The access of the run's target (a pipeline run needs that pipeline).
    Run(String),
}

/// Decides what a request needs from its route template and parameters.
pub(crate) fn need(route: &str, param: impl Fn(&str) -> Option<String>, query: &str) -> Need {
    let tail = route.strip_prefix("/v1").unwrap_or(route);
    if tail == "/health" || tail == "/openapi.json" {
        return Need::Public;
    }
    if tail.starts_with("/tokens") {
        return Need::Access(Access::Admin);
    }
    if tail.starts_with("/pipelines/{name}") {
        if let Some(name) = param("name") {
            return Need::Access(Access::Pipeline(name));
        }
    }
    if tail.starts_with("/runs/{id}") {
        if let Some(id) = param("id") {
            return Need::Run(id);
        }
    }
    if tail == "/runs" {
        // Listing the runs of one pipeline is that pipeline's business.
        if let Some(target) = query_param(query, "target") {
            return Need::Run(format!("target:{target}"));
        }
    }
    Need::Access(Access::All)
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name && !v.is_empty()).then(|| v.to_string())
    })
}

/// The middleware guarding the `/v1` routes.
pub(crate) async fn guard(
    State((engine, mode)): State<(Engine, AuthMode)>,
    matched: Option<MatchedPath>,
    params: RawPathParams,
    request: Request,
    next: Next,
) -> Response {
    if mode == AuthMode::Off {
        return next.run(request).await;
    }
    let route = matched.as_ref().map_or("", |m| m.as_str());
    let query = request.uri().query().unwrap_or("").to_string();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    };
    let access = match need(route, param, &query) {
        Need::Public => return next.run(request).await,
        Need::Access(access) => access,
        Need::Run(id) => match run_access(&engine, &id).await {
            Ok(access) => access,
            Err(err) => return err.into_response(),
        },
    };
    let mut request = request;
    match check_bearer(&engine, request.headers(), &access).await {
        Ok(expires_at) => {
            let bearer = bearer(request.headers()).unwrap_or_default().to_string();
            request.extensions_mut().insert(Credential {
                bearer,
                access,
                expires_at,
            });
            next.run(request).await
        }
        Err(denied) => denied,
    }
}

/// The token a request was let in with, for routes that outlive the check
/// (live feeds): they check it again, and stop when it expires or is revoked.
#[derive(Debug, Clone)]
pub(crate) struct Credential {
    pub bearer: String,
    pub access: Access,
    pub expires_at: Option<i64>,
}

/// The access a run's routes need: its pipeline's, or `all` for a function
/// run (and for an unknown run, so a scoped token learns nothing from 404s).
async fn run_access(engine: &Engine, id: &str) -> Result<Access, ApiError> {
    if let Some(target) = id.strip_prefix("target:") {
        return Ok(match engine.plan().pipelines.contains_key(target) {
            true => Access::Pipeline(target.to_string()),
            false => Access::All,
        });
    }
    match engine.store().get_run(id).await {
        Ok(run) if run.kind == RunKind::Pipeline => Ok(Access::Pipeline(run.target)),
        Ok(_) | Err(sluice_store::StoreError::NotFound { .. }) => Ok(Access::All),
        Err(err) => Err(err.into()),
    }
}

/// The bearer value of a request, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// Checks the request's API token for `access`, returning when it expires;
/// `Err` is the response to send.
pub(crate) async fn check_bearer(
    engine: &Engine,
    headers: &HeaderMap,
    access: &Access,
) -> Result<Option<i64>, Response> {
    let Some(presented) = bearer(headers) else {
        return Err(unauthorized(
            "this API needs `Authorization: Bearer TOKEN` (create one with `sluice token create`)"
                .into(),
        ));
    };
    match engine.authenticate(presented, access).await {
        Ok(Ok(record)) => Ok(record.expires_at),
        Ok(Err(err)) => Err(refused(&err)),
        Err(err) => Err(ApiError::from(err).into_response()),
    }
}

/// The response for a refused token: 403 when out of scope, else 401.
pub(crate) fn refused(err: &TokenError) -> Response {
    if err.is_forbidden() {
        return ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: err.to_string(),
        }
        .into_response();
    }
    let mut response = ApiError {
        status: StatusCode::UNAUTHORIZED,
        code: "invalid_token",
        message: err.to_string(),
    }
    .into_response();
    let challenge = format!(
        "Bearer error=\"invalid_token\", error_description=\"{}\"",
        err.to_string().replace('"', "'")
    );
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// `401` asking for a bearer token.
pub(crate) fn unauthorized(message: String) -> Response {
    let mut response = ApiError {
        status: StatusCode::UNAUTHORIZED,
        code: "unauthorized",
        message,
    }
    .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need_of(route: &str, query: &str) -> Need {
        need(
            route,
            |name| match name {
                "name" => Some("etl".into()),
                "id" => Some("run_1".into()),
                _ => None,
            },
            query,
        )
    }

    #[test]
    fn routes_need_what_their_path_says() {
        let pipeline = Need::Access(Access::Pipeline("etl".into()));
        let cases = [
            ("/v1/health", "", Need::Public),
            ("/v1/openapi.json", "", Need::Public),
            ("/v1/tokens", "", Need::Access(Access::Admin)),
            ("/v1/tokens/{id}/revoke", "", Need::Access(Access::Admin)),
            ("/v1/pipelines/{name}/runs", "", pipeline.clone()),
            ("/v1/pipelines/{name}/events", "", pipeline.clone()),
            ("/v1/runs/{id}", "", Need::Run("run_1".into())),
            ("/v1/runs/{id}/ws", "after=3", Need::Run("run_1".into())),
            ("/v1/runs", "", Need::Access(Access::All)),
            (
                "/v1/runs",
                "limit=5&target=etl",
                Need::Run("target:etl".into()),
            ),
            ("/v1/queues", "", Need::Access(Access::All)),
            ("/v1/functions/{name}/invoke", "", Need::Access(Access::All)),
            ("/v1/events", "", Need::Access(Access::All)),
            ("", "", Need::Access(Access::All)),
        ];
        for (route, query, expected) in cases {
            assert_eq!(need_of(route, query), expected, "{route}?{query}");
        }
    }
}
