//! The full example parses, and the typed accessors apply defaults.

use sluice_spec::*;
use std::path::Path;
use std::time::Duration;

const FULL: &str = include_str!("fixtures/full.yaml");

fn full() -> Project {
    parse_project("sluice.yaml", FULL).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn full_example_covers_every_resource() {
    let p = full();
    assert_eq!(p.version, 1);
    assert_eq!(p.name(), "quickstart");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let counts = [
        ("buckets", p.buckets.len(), 3),
        ("tables", p.tables.len(), 2),
        ("connections", p.connections.len(), 2),
        ("topics", p.topics.len(), 1),
        ("queues", p.queues.len(), 3),
        ("functions", p.functions.len(), 2),
        ("pipelines", p.pipelines.len(), 1),
        ("triggers", p.triggers.len(), 5),
        ("rules", p.rules.len(), 1),
    ];
    for (what, got, want) in counts {
        assert_eq!(got, want, "{what}");
    }
    // Declaration order is kept.
    let columns: Vec<&str> = p.tables["students"]
        .columns
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(columns, ["student_id", "course", "credits", "enrolled"]);
    let triggers: Vec<&str> = p.triggers.keys().map(String::as_str).collect();
    assert_eq!(
        triggers,
        ["nightly", "hourly", "submit", "dropped", "routed"]
    );
}

#[test]
fn function_accessors() {
    let p = full();
    let resize = &p.functions["resize"];
    assert_eq!(
        resize.command(),
        ["python3", "handler.py", "--quality", "80", "--verbose"]
    );
    assert_eq!(resize.timeout(), Duration::from_secs(900));
    assert_eq!(resize.memory_bytes(), Some(512 << 20));
    assert_eq!(
        resize.workdir(Path::new("/srv/app")),
        Path::new("/srv/app/handlers/")
    );
    assert_eq!(resize.env["PORT"].template(), "8080");
    let backoff = resize.retry().backoff.unwrap();
    assert_eq!(
        (backoff.initial(), backoff.max()),
        (Duration::from_secs(2), Duration::from_secs(60))
    );
    assert_eq!(backoff.multiplier(), 2.0);
    assert_eq!(
        resize.permissions.as_ref().unwrap().buckets["archive"],
        Access::ReadWrite
    );

    let extract = &p.functions["extract"];
    assert_eq!(extract.runtime, Runtime::Lambda);
    assert_eq!(extract.command(), ["python3", "-m", "awslambdaric"]);
    assert_eq!(extract.timeout(), Duration::from_secs(3600));
    assert_eq!(extract.concurrency(), defaults::FUNCTION_CONCURRENCY);
    assert_eq!(extract.max_attempts(), 3);
    assert_eq!(
        extract.workdir(Path::new("/srv/app")),
        Path::new("/srv/app")
    );
}

#[test]
fn queue_and_connection_accessors() {
    let p = full();
    let orders = &p.queues["orders"];
    assert_eq!(orders.dead_letter_queue("orders"), "orders-dlq");
    assert_eq!(
        orders.target.as_ref().unwrap().get(),
        Some(TargetRef::Function("resize"))
    );
    assert!(orders.fifo);
    let dlq = &p.queues["orders-dlq"];
    assert_eq!(dlq.dead_letter_queue("orders-dlq"), "orders-dlq.dlq");
    assert_eq!(dlq.visibility_timeout(), Duration::from_secs(30));
    assert_eq!(dlq.max_receive_count(), 5);
    assert_eq!(dlq.dedup_window(), Duration::from_secs(300));
    assert_eq!(dlq.delay(), Duration::ZERO);
    assert_eq!(dlq.concurrency(), None);
    assert_eq!(dlq.backoff().jitter(), 0.5);

    let wh = &p.connections["warehouse"];
    assert_eq!(wh.kind(), Some(DatabaseKind::Postgres));
    assert_eq!((wh.pool_max(), wh.pool_min()), (10, 1));
    assert_eq!(wh.query_timeout(), Some(Duration::from_secs(300)));
    assert_eq!(wh.tls_mode(), TlsMode::VerifyFull);
    let url = wh
        .url
        .resolve(|k| (k == "PGPASS").then(|| "pw".to_string()))
        .unwrap();
    assert_eq!(url, "postgres://etl:pw@db.internal/warehouse");
    let local = &p.connections["local"];
    assert_eq!(local.kind(), None);
    assert_eq!(local.connect_timeout(), Duration::from_secs(10));
    assert_eq!(local.tls_mode(), TlsMode::Prefer);
}

#[test]
fn pipeline_trigger_and_bucket_accessors() {
    let p = full();
    let etl = &p.pipelines["etl"];
    let actions: Vec<PhaseAction> = etl.phases.iter().map(|ph| ph.action().unwrap()).collect();
    assert_eq!(actions[0], PhaseAction::Function("extract"));
    assert!(matches!(
        actions[3],
        PhaseAction::Builtin(Builtin::CsvLoad, Some(_))
    ));
    assert_eq!(etl.max_attempts(), 2);
    let fan = etl.phases[1].fan_out.as_ref().unwrap();
    assert_eq!(fan.over, FanOutSource::Path("$.items".into()));
    assert_eq!(fan.tolerate_failures, Some(FailureTolerance::Percent(10.0)));
    let scan = etl.phases[2].fan_out.as_ref().unwrap();
    assert!(matches!(&scan.over, FanOutSource::Objects(o) if o.objects.bucket == "inbound"));

    let nightly = &p.triggers["nightly"];
    assert_eq!(
        nightly.source(),
        Some(TriggerSource::Schedule("cron(0 2 * * ? *)"))
    );
    assert_eq!(
        (nightly.catch_up(), nightly.overlap()),
        (CatchUp::Once, Overlap::Queue)
    );
    let submit = &p.triggers["submit"];
    let Some(TriggerSource::Http(http)) = submit.source() else {
        panic!("http trigger")
    };
    assert_eq!(http.methods(), [HttpMethod::Post, HttpMethod::Put]);
    assert_eq!(submit.auth_tokens()[0].env_vars(), ["API_TOKEN"]);
    let hourly = &p.triggers["hourly"];
    assert_eq!(
        (hourly.catch_up(), hourly.overlap()),
        (CatchUp::Skip, Overlap::Skip)
    );
    let Some(TriggerSource::Bucket(b)) = p.triggers["dropped"].source() else {
        panic!("bucket trigger")
    };
    assert!(b.matches("s3:ObjectCreated:Put", "drop/a.json"));
    assert!(!b.matches("s3:ObjectCreated:Copy", "drop/a.json"));

    let inbound = &p.buckets["inbound"];
    assert!(inbound.versioning);
    assert_eq!(inbound.storage, Storage::Local);
    assert!(inbound.notifications[0].matches("s3:ObjectCreated:Put", "incoming/x.csv"));
    assert!(
        matches!(&p.buckets["archive"].storage, Storage::S3(s3) if s3.bucket == "corp-archive")
    );
    assert_eq!(p.buckets["scratch"], Bucket::default());
    let email = p.topics["batch-done"].subscriptions[1]
        .email
        .as_ref()
        .unwrap();
    assert_eq!((email.smtp.port(), email.smtp.tls), (465, SmtpTls::Tls));
}

#[test]
fn load_project_from_directory_and_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sluice.yaml"), FULL).unwrap();
    let p = load_project(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert!(p.root.is_absolute());
    assert_eq!(p.file, p.root.join("sluice.yaml"));
    let p2 = load_project(&dir.path().join("sluice.yaml")).unwrap();
    assert_eq!(p2.root, p.root);

    let empty = tempfile::tempdir().unwrap();
    let err = load_project(empty.path()).unwrap_err();
    assert!(err.to_string().contains("project file not found"), "{err}");
}

#[test]
fn minimal_project_and_warnings() {
    let p = parse_project("sluice.yaml", "version: 1\n").unwrap();
    assert!(p.functions.is_empty() && p.warnings.is_empty());
    let text = "version: 1\ntopics:\n  t:\n    subscriptions:\n      - email:\n          to: [a@b.c]\n          from: x@y.z\n          smtp: { host: h, password: hunter2 }\n";
    let p = parse_project("sluice.yaml", text).unwrap();
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    let w = &p.warnings[0];
    assert_eq!((w.severity, w.line, w.column), (Severity::Warning, 8, 38));
    assert_eq!(w.path, "topics.t.subscriptions[0].email.smtp.password");
    assert!(w.message.contains("literal secret"), "{}", w.message);

    // `${env:...}` outside secret fields is used literally: a warning.
    let text = "version: 1\nfunctions:\n  f:\n    run: x\n    workdir: ${env:DIR}\n";
    let p = parse_project("sluice.yaml", text).unwrap();
    let w: Vec<String> = p.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with(
            "sluice.yaml:5:14: warning: functions.f.workdir: `${...}` is not resolved here"
        ),
        "{w:?}"
    );
}

#[test]
fn anchors_merge_keys_and_extension_keys() {
    let text = "version: 1\nx-defaults: &base\n  timeout: 5m\n  concurrency: 2\nfunctions:\n  a:\n    <<: *base\n    run: x\n  b: { <<: *base, run: y, concurrency: 8 }\n";
    let p = parse_project("sluice.yaml", text).unwrap_or_else(|e| panic!("{e}"));
    let a = &p.functions["a"];
    assert_eq!(
        (a.timeout(), a.concurrency()),
        (Duration::from_secs(300), 2)
    );
    let b = &p.functions["b"];
    assert_eq!(
        (b.timeout(), b.concurrency(), b.command()),
        (Duration::from_secs(300), 8, vec!["y".to_string()])
    );
}
