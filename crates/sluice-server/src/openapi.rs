//! The OpenAPI 3.1 description of the API, generated from the route table
//! that also builds the router, so the two cannot drift apart.
//!
//! [`crate::routes::declare`] lists every route once, with its handler and
//! its [`Doc`]. It is run against two [`RouteSink`]s: one adds the handlers
//! to the axum router, the other collects the docs into the document served
//! at `/v1/openapi.json` (which adds the project's HTTP triggers). Body and
//! query schemas come from the Rust types through `schemars`.

use axum::handler::Handler;
use axum::routing::{on, MethodFilter};
use axum::Router;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};
use sluice_engine::plan::{HttpTriggerPlan, TargetKind};
use sluice_engine::Engine;

/// Generates a type's schema (a `$ref` into `components/schemas` for named types).
pub(crate) type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The [`SchemaFn`] of `T`.
pub(crate) fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// What one route does, for the document.
#[derive(Clone)]
pub(crate) struct Doc {
    tag: &'static str,
    summary: &'static str,
    description: Option<&'static str>,
    query: Option<SchemaFn>,
    body: Option<SchemaFn>,
    /// Status, description, JSON schema (none: described only).
    responses: Vec<(u16, &'static str, Option<SchemaFn>)>,
    /// A streaming answer instead of JSON: its media type.
    stream: Option<&'static str>,
}

impl Doc {
    pub fn new(tag: &'static str, summary: &'static str) -> Doc {
        Doc {
            tag,
            summary,
            description: None,
            query: None,
            body: None,
            responses: Vec::new(),
            stream: None,
        }
    }

    pub fn describe(mut self, text: &'static str) -> Doc {
        self.description = Some(text);
        self
    }

    /// Query parameters: the properties of `T`.
    pub fn query<T: JsonSchema>(mut self) -> Doc {
        self.query = Some(schema::<T>);
        self
    }

    /// A JSON request body of type `T`.
    pub fn body<T: JsonSchema>(mut self) -> Doc {
        self.body = Some(schema::<T>);
        self
    }

    /// A JSON answer of type `T`.
    pub fn returns<T: JsonSchema>(mut self, status: u16, what: &'static str) -> Doc {
        self.responses.push((status, what, Some(schema::<T>)));
        self
    }

    /// An answer described in words only (its shape is free-form JSON).
    pub fn answers(mut self, status: u16, what: &'static str) -> Doc {
        self.responses.push((status, what, None));
        self
    }

    /// A streaming answer (`text/event-stream`, or a WebSocket upgrade).
    pub fn streams(mut self, media_type: &'static str, what: &'static str) -> Doc {
        self.stream = Some(media_type);
        self.responses.push((
            if media_type == "websocket" { 101 } else { 200 },
            what,
            None,
        ));
        self
    }
}

/// Where [`crate::routes::declare`] puts each route.
pub(crate) trait RouteSink {
    fn add<H, T>(&mut self, method: &'static str, path: &'static str, handler: H, doc: Doc)
    where
        H: Handler<T, Engine>,
        T: 'static;
}

/// Builds the axum router.
pub(crate) struct RouterSink(pub Router<Engine>);

impl RouteSink for RouterSink {
    fn add<H, T>(&mut self, method: &'static str, path: &'static str, handler: H, _: Doc)
    where
        H: Handler<T, Engine>,
        T: 'static,
    {
        let filter = match method {
            "GET" => MethodFilter::GET,
            "POST" => MethodFilter::POST,
            "PUT" => MethodFilter::PUT,
            "DELETE" => MethodFilter::DELETE,
            other => panic!("route table: unsupported method {other}"),
        };
        let router = std::mem::take(&mut self.0);
        self.0 = router.route(path, on(filter, handler));
    }
}

/// Collects the docs.
#[derive(Default)]
pub(crate) struct DocSink(pub Vec<(&'static str, &'static str, Doc)>);

impl RouteSink for DocSink {
    fn add<H, T>(&mut self, method: &'static str, path: &'static str, _: H, doc: Doc)
    where
        H: Handler<T, Engine>,
        T: 'static,
    {
        self.0.push((method, path, doc));
    }
}

/// The whole document: the API's routes and the project's HTTP triggers.
pub fn document(triggers: &[HttpTriggerPlan]) -> Value {
    let mut sink = DocSink::default();
    crate::routes::declare(&mut sink);
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    let mut generator = settings.into_generator();
    let mut paths = Map::new();
    for (method, path, doc) in &sink.0 {
        let operation = operation(method, path, doc, &mut generator);
        insert(&mut paths, path, method, operation);
    }
    for trigger in triggers {
        for method in &trigger.methods {
            insert(
                &mut paths,
                &trigger.path,
                method,
                trigger_operation(trigger),
            );
        }
    }
    let schemas = generator.take_definitions(true);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Sluice",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Serverless batch pipelines: runs, queues, events, live feeds and the project's HTTP triggers. Every error body is {\"error\": {\"code\", \"message\"}}.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "An API token from `sluice token create` (needed when `sluice up --auth required`)." },
            },
        },
        "security": [{ "bearer": [] }],
    })
}

fn insert(paths: &mut Map<String, Value>, path: &str, method: &str, operation: Value) {
    let item = paths.entry(path.to_string()).or_insert_with(|| json!({}));
    item[method.to_ascii_lowercase()] = operation;
}

fn operation(method: &str, path: &str, doc: &Doc, generator: &mut SchemaGenerator) -> Value {
    let mut parameters: Vec<Value> = path_parameters(path);
    if let Some(query) = doc.query {
        parameters.extend(query_parameters(query(generator), generator));
    }
    let mut responses = Map::new();
    for (status, what, body) in &doc.responses {
        let mut response = json!({ "description": what });
        match (body, doc.stream) {
            (Some(schema), _) => {
                response["content"] =
                    json!({ "application/json": { "schema": schema(generator) } });
            }
            (None, Some("text/event-stream")) => {
                response["content"] =
                    json!({ "text/event-stream": { "schema": { "type": "string" } } });
            }
            (None, _) => {}
        }
        responses.insert(status.to_string(), response);
    }
    responses.insert(
        "default".into(),
        json!({ "description": "An error: `{\"error\": {\"code\", \"message\"}}` (401 without a valid token, 403 out of its scope, 404 unknown name)." }),
    );
    let id = format!(
        "{}{}",
        method.to_ascii_lowercase(),
        path.replace(['/', '{', '}', '-', '.'], "_")
    );
    let mut op = json!({
        "operationId": id,
        "tags": [doc.tag],
        "summary": doc.summary,
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(text) = doc.description {
        op["description"] = json!(text);
    }
    if let Some(body) = doc.body {
        op["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": body(generator) } },
        });
    }
    if path == "/v1/health" || path == "/v1/openapi.json" {
        op["security"] = json!([]);
    }
    op
}

/// `{name}` segments of a path template, as required path parameters.
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect()
}

/// The properties of a query type's schema, as query parameters.
fn query_parameters(schema: Schema, generator: &mut SchemaGenerator) -> Vec<Value> {
    let mut schema = schema.to_value();
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or_default().to_string();
        schema = generator
            .definitions()
            .get(&name)
            .cloned()
            .unwrap_or_default();
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| {
            let mut parameter = json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "schema": property,
            });
            if let Some(text) = property.get("description") {
                parameter["description"] = text.clone();
            }
            parameter
        })
        .collect()
}

fn trigger_operation(trigger: &HttpTriggerPlan) -> Value {
    let target = match &trigger.target.kind {
        TargetKind::Function(f) => format!("function `{f}`"),
        TargetKind::Pipeline(p) => format!("pipeline `{p}`"),
        TargetKind::Queue(q) => format!("queue `{q}`"),
        TargetKind::Topic(t) => format!("notifications on topic `{t}`"),
    };
    json!({
        "operationId": format!("trigger_{}", trigger.name.replace(['-', '.'], "_")),
        "tags": ["triggers"],
        "summary": format!("HTTP trigger `{}`: starts {target}", trigger.name),
        "description": "Answers 202 at once with the run id and where to follow it. The JSON body is the run's input. An `Idempotency-Key` header returns the first submission's run.",
        "parameters": [{ "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string" } }],
        "requestBody": { "required": false, "content": { "application/json": { "schema": {} } } },
        "responses": {
            "202": { "description": "Accepted: `{run_id, message_id, duplicate, status_url, logs_url, events_url, ws_url}`." },
            "default": { "description": "An error: 401 without a token, 403 with one out of scope." },
        },
    })
}
