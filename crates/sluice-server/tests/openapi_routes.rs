//! Every route the router serves is in the OpenAPI document, and every
//! documented operation is served. The served routes are read from the built
//! router itself (its paths, then each method probed), so adding a route
//! without documenting it breaks this test.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use sluice_engine::plan::{HttpTriggerPlan, Plan, TargetKind, TargetPlan};
use sluice_engine::{Engine, EngineOptions};
use sluice_server::{ApiOptions, AuthMode};
use sluice_store::sqlite::SqliteStore;
use std::collections::BTreeSet;
use std::sync::Arc;
use tower::ServiceExt;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

/// The route templates of a router, from its debug form (`RouteId(N): "/path"`).
fn route_templates(router: &axum::Router) -> Vec<String> {
    let debug = format!("{router:?}");
    // Only the path router: the fallback router holds axum's own catch-all.
    let served = debug.split("fallback_router").next().unwrap_or_default();
    let mut paths = Vec::new();
    let mut rest = served;
    while let Some(at) = rest.find("RouteId(") {
        rest = &rest[at..];
        let Some(open) = rest.find(": \"") else { break };
        let close = rest[open + 3..].find('"').expect("closing quote");
        let path = &rest[open + 3..open + 3 + close];
        if path.starts_with('/') {
            paths.push(path.to_string());
        }
        rest = &rest[open + 3 + close..];
    }
    paths.sort();
    paths.dedup();
    paths
}

async fn served_operations(router: &axum::Router) -> BTreeSet<(String, String)> {
    let mut served = BTreeSet::new();
    for template in route_templates(router) {
        let concrete: String = template
            .split('/')
            .map(|s| if s.starts_with('{') { "x1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in METHODS {
            let request = Request::builder()
                .method(Method::from_bytes(method.as_bytes()).unwrap())
                .uri(&concrete)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let response = router.clone().oneshot(request).await.unwrap();
            if response.status() != StatusCode::METHOD_NOT_ALLOWED {
                served.insert((method.to_string(), template.clone()));
            }
        }
    }
    served
}

fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    documented
}

#[tokio::test]
async fn every_served_route_is_documented_and_every_documented_one_served() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(
        &dir.path().join("state.db"),
        sluice_core::time::system_clock(),
    )
    .unwrap();
    let plan = Plan {
        http_triggers: vec![HttpTriggerPlan {
            name: "submit".into(),
            path: "/tasks/etl".into(),
            methods: vec!["POST".into()],
            requires_auth: false,
            tokens: vec![],
            target: TargetPlan {
                kind: TargetKind::Pipeline("etl".into()),
                input: None,
            },
        }],
        ..Plan::default()
    };
    let engine = Engine::start(Arc::new(store), plan, EngineOptions::default())
        .await
        .unwrap();
    let router = sluice_server::router(
        engine.clone(),
        ApiOptions {
            auth: AuthMode::Off,
        },
    );
    let templates = route_templates(&router);
    assert!(
        templates.contains(&"/v1/health".to_string())
            && templates.contains(&"/tasks/etl".to_string()),
        "could not read the router's routes (did axum's debug format change?): {templates:?}"
    );
    let served = served_operations(&router).await;
    let document = sluice_server::openapi_document(&engine.plan().http_triggers);
    let documented = documented_operations(&document);
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in the OpenAPI document: {undocumented:?}"
    );
    let phantom: Vec<_> = documented.difference(&served).collect();
    assert!(phantom.is_empty(), "documented but not served: {phantom:?}");
    assert!(
        served.len() >= 20,
        "only {} operations found: {served:?}",
        served.len()
    );
}
