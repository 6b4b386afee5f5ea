//! The table backend conformance suite: every implementation of
//! `TableBackend` runs the same checks, SQLite on a temporary file and
//! PostgreSQL on the local server (which must be running: these tests fail,
//! never skip, without it).

mod common;

use sluice_spec::LoadPolicy;
use sluice_tables::csv::CsvFormat;
use sluice_tables::{
    load_csv, Cell, Ensured, ItemQuery, LoadMarker, LoadRequest, LoadStatus, SortCondition,
    TableBackend, TableError, TableSchema,
};

fn row(id: &str, course: &str, first: &str, grade: Option<i64>) -> Vec<Cell> {
    vec![
        Cell::Text(id.into()),
        Cell::Text(course.into()),
        Cell::Text(first.into()),
        Cell::Text("Last".into()),
        grade.map_or(Cell::Null, Cell::Integer),
        Cell::Decimal("12.50".into()),
        sluice_tables::parse_cell(sluice_spec::ColumnType::Date, "2024-09-01").unwrap(),
        Cell::Boolean(true),
    ]
}

fn marker(fingerprint: &str) -> LoadMarker {
    LoadMarker {
        source: "s3://inbound/students.csv".into(),
        fingerprint: fingerprint.into(),
        run_id: "run_1".into(),
        rows: 1,
    }
}

async fn all_of(
    backend: &dyn TableBackend,
    schema: &TableSchema,
    id: &str,
) -> Vec<serde_json::Value> {
    let page = backend
        .query(
            schema,
            &ItemQuery {
                partition: Cell::Text(id.into()),
                sort: SortCondition::Any,
                limit: 1000,
                after: None,
            },
        )
        .await
        .expect("query");
    page.items
        .into_iter()
        .map(serde_json::Value::Object)
        .collect()
}

async fn ensure_creates_then_checks(backend: Box<dyn TableBackend>) {
    let schema = common::students();
    assert_eq!(
        backend.ensure_table(&schema).await.unwrap(),
        Ensured::Created
    );
    assert_eq!(
        backend.ensure_table(&schema).await.unwrap(),
        Ensured::Existing { added: vec![] }
    );
    // A new optional column is added; a changed type is refused.
    let mut grown = (*schema).clone();
    let mut extra = grown.columns[4].clone();
    extra.name = "credits".into();
    grown.columns.push(extra);
    assert_eq!(
        backend.ensure_table(&grown).await.unwrap(),
        Ensured::Existing {
            added: vec!["credits".into()]
        }
    );
    let mut changed = (*schema).clone();
    changed.columns[4].kind = sluice_spec::ColumnType::String;
    let err = backend.ensure_table(&changed).await.unwrap_err();
    assert!(matches!(err, TableError::Mismatch { .. }), "{err}");
    assert!(err.to_string().contains("column `grade`"), "{err}");
}

async fn commit_upserts_and_keeps_types(backend: Box<dyn TableBackend>) {
    let schema = common::students();
    backend.ensure_table(&schema).await.unwrap();
    let mut writer = backend.writer(&schema).await.unwrap();
    writer
        .write(vec![
            row("S0001", "physics", "Ada", Some(90)),
            row("S0001", "math", "Ada", None),
            row("S0001", "math", "Ada-last-wins", Some(70)),
        ])
        .await
        .unwrap();
    writer.commit(&marker("v1")).await.unwrap();
    let items = all_of(&*backend, &schema, "S0001").await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0]["course"], "math");
    assert_eq!(items[0]["first_name"], "Ada-last-wins");
    assert_eq!(items[0]["grade"], 70);
    assert_eq!(items[0]["fee"], "12.50");
    assert_eq!(items[0]["enrolled"], "2024-09-01");
    assert_eq!(items[0]["active"], true);
    assert_eq!(items[1]["course"], "physics");
    // Upsert: the same key again replaces, never duplicates.
    let mut writer = backend.writer(&schema).await.unwrap();
    writer
        .write(vec![row("S0001", "physics", "Ada", Some(95))])
        .await
        .unwrap();
    writer.commit(&marker("v2")).await.unwrap();
    let items = all_of(&*backend, &schema, "S0001").await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["grade"], 95);
    // Text with the characters bulk formats escape comes back byte for byte.
    let tricky = "tab\there\nnew line \\N back\\slash \r ü";
    let mut writer = backend.writer(&schema).await.unwrap();
    writer
        .write(vec![row("S0009", "math", tricky, None)])
        .await
        .unwrap();
    writer.commit(&marker("v9")).await.unwrap();
    assert_eq!(
        all_of(&*backend, &schema, "S0009").await[0]["first_name"],
        tricky
    );
    let prior = backend
        .prior_load(&schema, "s3://inbound/students.csv", "v2")
        .await
        .unwrap();
    assert_eq!(prior.unwrap().run_id, "run_1");
    assert!(backend
        .prior_load(&schema, "s3://inbound/students.csv", "v3")
        .await
        .unwrap()
        .is_none());
}

async fn rollback_discards_since_checkpoint(backend: Box<dyn TableBackend>) {
    let schema = common::students();
    backend.ensure_table(&schema).await.unwrap();
    let mut writer = backend.writer(&schema).await.unwrap();
    writer
        .write(vec![row("S0002", "math", "Kept", None)])
        .await
        .unwrap();
    writer.checkpoint().await.unwrap();
    writer
        .write(vec![row("S0002", "physics", "Dropped", None)])
        .await
        .unwrap();
    writer.rollback().await.unwrap();
    let items = all_of(&*backend, &schema, "S0002").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["first_name"], "Kept");
    // A writer dropped mid-load leaves nothing behind either.
    let mut writer = backend.writer(&schema).await.unwrap();
    writer
        .write(vec![row("S0002", "biology", "Abandoned", None)])
        .await
        .unwrap();
    drop(writer);
    assert_eq!(all_of(&*backend, &schema, "S0002").await.len(), 1);
}

async fn queries_by_sort_key_and_pages(backend: Box<dyn TableBackend>) {
    let schema = common::students();
    backend.ensure_table(&schema).await.unwrap();
    let mut writer = backend.writer(&schema).await.unwrap();
    let courses = ["biology", "chemistry", "math", "physics"];
    writer
        .write(
            courses
                .iter()
                .map(|c| row("S0003", c, "Pat", Some(50)))
                .collect(),
        )
        .await
        .unwrap();
    writer.commit(&marker("q")).await.unwrap();
    let query = |sort, limit, after| ItemQuery {
        partition: Cell::Text("S0003".into()),
        sort,
        limit,
        after,
    };
    let courses_of = |page: &sluice_tables::ItemPage| -> Vec<String> {
        page.items
            .iter()
            .map(|i| i["course"].as_str().unwrap().to_string())
            .collect()
    };
    let equals = backend
        .query(
            &schema,
            &query(SortCondition::Equals(Cell::Text("math".into())), 10, None),
        )
        .await
        .unwrap();
    assert_eq!(courses_of(&equals), ["math"]);
    let range = SortCondition::Between(Some(Cell::Text("c".into())), Some(Cell::Text("p".into())));
    let between = backend
        .query(&schema, &query(range, 10, None))
        .await
        .unwrap();
    assert_eq!(courses_of(&between), ["chemistry", "math"]);
    let prefix = backend
        .query(
            &schema,
            &query(SortCondition::BeginsWith("ph".into()), 10, None),
        )
        .await
        .unwrap();
    assert_eq!(courses_of(&prefix), ["physics"]);
    // Pages of 3 then 1: every item exactly once, in order.
    let first = backend
        .query(&schema, &query(SortCondition::Any, 3, None))
        .await
        .unwrap();
    assert_eq!(courses_of(&first), ["biology", "chemistry", "math"]);
    let second = backend
        .query(&schema, &query(SortCondition::Any, 3, first.next.clone()))
        .await
        .unwrap();
    assert_eq!(courses_of(&second), ["physics"]);
    assert!(second.next.is_none());
}

fn csv_request(policy: LoadPolicy, fingerprint: &str) -> LoadRequest {
    LoadRequest {
        policy,
        batch_size: 2,
        source: "s3://inbound/batch.csv".into(),
        fingerprint: fingerprint.into(),
        run_id: "run_csv".into(),
        progress: None,
    }
}

const MIXED: &str = "student_id,course,first_name,last_name,grade\n\
                     S0010,math,A,B,1\nS0011,math,C,D,2\nBAD,math,E,F,3\nS0012,math,G,H,4\n";

async fn csv_policies_and_idempotence(backend: Box<dyn TableBackend>) {
    let schema = common::students();
    backend.ensure_table(&schema).await.unwrap();
    let load = |policy, fingerprint: &'static str| {
        let schema = schema.clone();
        let backend = &backend;
        async move {
            load_csv(
                MIXED.as_bytes(),
                schema,
                CsvFormat::default(),
                &**backend,
                &csv_request(policy, fingerprint),
                Vec::new(),
            )
            .await
            .expect("load")
        }
    };
    let count = || async {
        let mut n = 0;
        for id in ["S0010", "S0011", "S0012"] {
            n += all_of(&*backend, &schema, id).await.len();
        }
        n
    };
    // All-or-nothing: one bad record (after a full batch was written) loads nothing.
    let report = load(LoadPolicy::AllOrNothing, "v1").await;
    assert_eq!(report.status, LoadStatus::Rejected);
    assert_eq!(
        (report.rows_read, report.rows_loaded, report.rows_rejected),
        (4, 0, 1)
    );
    assert_eq!(report.errors[0].line, 4);
    assert_eq!(count().await, 0);
    // Load-valid: the three good records load, the bad one is reported.
    let report = load(LoadPolicy::LoadValid, "v1").await;
    assert_eq!(report.status, LoadStatus::Partial);
    assert_eq!((report.rows_loaded, report.rows_rejected), (3, 1));
    assert_eq!(count().await, 3);
    // The same version again changes nothing.
    let again = load(LoadPolicy::LoadValid, "v1").await;
    assert_eq!(again.status, LoadStatus::AlreadyLoaded);
    assert_eq!(again.prior_load.unwrap().rows, 3);
}

macro_rules! conformance {
    ($module:ident, $backend:expr) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn ensure_creates_then_checks() {
                super::ensure_creates_then_checks($backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn commit_upserts_and_keeps_types() {
                super::commit_upserts_and_keeps_types($backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn rollback_discards_since_checkpoint() {
                super::rollback_discards_since_checkpoint($backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn queries_by_sort_key_and_pages() {
                super::queries_by_sort_key_and_pages($backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn csv_policies_and_idempotence() {
                super::csv_policies_and_idempotence($backend).await;
            }
        }
    };
}

fn sqlite() -> Box<dyn TableBackend> {
    let dir = tempfile::tempdir().unwrap().keep();
    Box::new(sluice_tables::backend::sqlite::SqliteTables::open(&dir.join("tables.db")).unwrap())
}

async fn postgres() -> Box<dyn TableBackend> {
    let url = common::postgres_url();
    match sluice_tables::backend::postgres::PostgresTables::connect(
        &url,
        Some(&common::fresh_schema()),
        4,
    )
    .await
    {
        Ok(b) => Box::new(b),
        Err(e) => panic!("PostgreSQL is required for these tests ({url}): {e}"),
    }
}

conformance!(on_sqlite, sqlite());
conformance!(on_postgres, postgres().await);
