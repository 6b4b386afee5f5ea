//! PostgreSQL-only failure modes: an unreachable server, a schema from a newer
//! Sluice or from another program, concurrent first starts, and exact JSON
//! round trips. Same server and schema rules as `postgres_conformance.rs`.

mod postgres_support;

use postgres_support::{fresh_store, tagged, unique_schema, url, DropSchema};
use serde_json::json;
use sluice_core::time::{Clock, ManualClock};
use sluice_store::conformance::START;
use sluice_store::postgres::PostgresStore;
use sluice_store::{NewMessage, QueueDef, Store, StoreError};
use std::sync::Arc;

fn jobs_queue() -> QueueDef {
    QueueDef {
        name: "jobs".into(),
        visibility_timeout_ms: 30_000,
        max_receive_count: 3,
        dead_letter_queue: None,
        concurrency: None,
        dedup_window_ms: 0,
        backoff: Default::default(),
    }
}

#[tokio::test]
async fn an_unreachable_server_is_unusable_and_named_without_password() {
    let url = "postgres://sluice:hunter2@127.0.0.1:1/jobs";
    match PostgresStore::connect(url, None, sluice_core::time::system_clock()).await {
        Err(err @ StoreError::Unusable { .. }) => {
            let message = err.to_string();
            assert!(
                message.contains("postgres://sluice@127.0.0.1:1/jobs"),
                "{message}"
            );
            assert!(
                !message.contains("hunter2"),
                "the password leaked: {message}"
            );
            assert!(message.contains("cannot connect"), "{message}");
        }
        other => panic!("an unreachable server must be Unusable, got {other:?}"),
    }
}

#[tokio::test]
async fn describe_names_host_and_database_only() {
    let (store, _guard) = fresh_store(ManualClock::starting_at(START)).await;
    let description = store.describe();
    assert!(description.starts_with("postgres://"), "{description}");
    assert!(
        !description.contains('@'),
        "no user or password: {description}"
    );
    assert!(
        description.contains(store.schema().unwrap()),
        "{description}"
    );
}

#[tokio::test]
async fn concurrent_starters_migrate_once() {
    let url = url();
    let schema = unique_schema();
    let _guard = DropSchema {
        url: url.clone(),
        schema: schema.clone(),
    };
    let starters: Vec<_> = (0..4)
        .map(|_| {
            let (url, schema) = (url.clone(), schema.clone());
            tokio::spawn(async move {
                PostgresStore::connect(
                    &tagged(&url, &schema),
                    Some(&schema),
                    sluice_core::time::system_clock(),
                )
                .await
            })
        })
        .collect();
    for starter in starters {
        starter
            .await
            .unwrap()
            .expect("every concurrent starter connects");
    }
}

/// Runs `sql` in the schema, outside any store.
async fn run_sql(url: &str, schema: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(&format!("SET search_path TO {schema}; {sql}"))
        .await
        .unwrap();
}

#[tokio::test]
async fn newer_schema_version_is_refused() {
    let clock: Arc<dyn Clock> = ManualClock::starting_at(START);
    let (store, guard) = fresh_store(clock.clone()).await;
    drop(store);
    let newer = PostgresStore::schema_version() + 1;
    run_sql(
        &guard.url,
        &guard.schema,
        &format!("INSERT INTO sluice_schema_migrations VALUES ({newer}, 'from the future', 0)"),
    )
    .await;
    match PostgresStore::connect(
        &tagged(&guard.url, &guard.schema),
        Some(&guard.schema),
        clock,
    )
    .await
    {
        Err(err @ StoreError::Unusable { .. }) => {
            let message = err.to_string();
            assert!(message.contains("newer version of Sluice"), "{message}");
        }
        other => panic!("a newer schema must be Unusable, got {other:?}"),
    }
}

#[tokio::test]
async fn another_programs_schema_is_refused() {
    let url = url();
    let schema = unique_schema();
    let guard = DropSchema {
        url: url.clone(),
        schema: schema.clone(),
    };
    run_sql(
        &url,
        "public",
        &format!("CREATE SCHEMA {schema}; CREATE TABLE {schema}.runs (x int)"),
    )
    .await;
    match PostgresStore::connect(
        &tagged(&guard.url, &schema),
        Some(&schema),
        sluice_core::time::system_clock(),
    )
    .await
    {
        Err(err @ StoreError::Unusable { .. }) => {
            assert!(
                err.to_string().contains("not a Sluice state store"),
                "{err}"
            )
        }
        other => panic!("another program's schema must be Unusable, got {other:?}"),
    }
}

#[tokio::test]
async fn json_bodies_round_trip_exactly() {
    let (store, _guard) = fresh_store(ManualClock::starting_at(START)).await;
    store.define_queues(&[jobs_queue()]).await.unwrap();
    let body = json!({
        "max": u64::MAX, "min": i64::MIN, "half": 1.5, "tiny": 1e-300,
        "text": "caf\u{e9} \u{1F600} \"quoted\"", "nested": [null, true, {"a": []}]
    });
    let message = NewMessage {
        queue: "jobs".into(),
        body: body.clone(),
        ..Default::default()
    };
    store.enqueue(&[message]).await.unwrap();
    let leased = store.lease("jobs", "w", 1).await.unwrap();
    assert_eq!(leased[0].body, body);
}
