//! Per-resource checks: exactly-one-of constraints, cross-references,
//! ranges and shapes, each with its position and suggestion.

use sluice_spec::{parse_project, Severity};

/// (line, column, path, message fragment, suggestion)
type Want = (
    usize,
    usize,
    &'static str,
    &'static str,
    Option<&'static str>,
);

fn check(name: &str, body: &str, want: &[Want]) {
    let text = format!("version: 1\n{body}");
    let got: Vec<_> = match parse_project("sluice.yaml", &text) {
        Ok(p) => panic!(
            "{name}: expected errors, got a project (warnings: {:?})",
            p.warnings
        ),
        Err(d) => {
            d.0.into_iter()
                .filter(|d| d.severity == Severity::Error)
                .collect()
        }
    };
    let render = got
        .iter()
        .map(|d| format!("  {d}"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        got.len(),
        want.len(),
        "{name}: expected {} errors, got:\n{render}",
        want.len()
    );
    for (line, column, path, fragment, suggestion) in want {
        let found = got.iter().any(|d| {
            (d.line, d.column) == (*line, *column)
                && d.path == *path
                && d.message.contains(fragment)
                && d.suggestion.as_deref() == *suggestion
        });
        assert!(
            found,
            "{name}: missing {line}:{column} {path}: {fragment} ({suggestion:?}); got:\n{render}"
        );
    }
}

#[test]
fn buckets_tables_connections() {
    let cases: &[(&str, &str, &[Want])] = &[
        (
            "misspelt storage key",
            "buckets:\n  b:\n    storage:\n      s3: { bucke: x }\n",
            &[
                (5, 13, "buckets.b.storage.s3.bucke", "unknown field `bucke`", Some("bucket")),
                (5, 7, "buckets.b.storage.s3", "missing field `bucket`", None),
            ],
        ),
        ("bad storage kind", "buckets:\n  b: { storage: locl }\n", &[(3, 17, "buckets.b.storage", "unknown variant `locl`", Some("local"))]),
        (
            "notification event typo and missing target",
            "functions:\n  f: { run: x }\nbuckets:\n  b:\n    notifications:\n      - events: [\"s3:ObjectCreated:Putt\"]\n        target: { function: g }\n",
            &[
                (7, 18, "buckets.b.notifications[0].events[0]", "unknown S3 event type", Some("s3:ObjectCreated:Put")),
                (8, 29, "buckets.b.notifications[0].target.function", "no function named `g` is declared (declared: f)", None),
            ],
        ),
        (
            "table key, connection and column constraints",
            "tables:\n  t:\n    connection: warehous\n    columns:\n      student_id: { type: string, regex: \"([a-z\" }\n      n: { type: integer, max_length: 3, min: 5, max: 1 }\n    key: { partition: studnt_id, sort: student_id }\nconnections:\n  warehouse: { url: \"sqlite:data.db\" }\n",
            &[
                (4, 17, "tables.t.connection", "no connection named `warehous`", Some("warehouse")),
                (6, 42, "tables.t.columns.student_id.regex", "invalid regular expression `([a-z`: unclosed character class", None),
                (7, 27, "tables.t.columns.n.max_length", "only applies to `string` columns", None),
                (7, 47, "tables.t.columns.n.min", "`min` (5) is greater than `max` (1)", None),
                (8, 23, "tables.t.key.partition", "no column named `studnt_id`", Some("student_id")),
            ],
        ),
        (
            "a type error stops only its own resource",
            "tables:\n  t:\n    columns:\n      c: { type: strng }\n  u:\n    key: { partition: x }\n",
            &[
                (5, 18, "tables.t.columns.c.type", "unknown variant `strng`", Some("string")),
                (7, 23, "tables.u.key.partition", "no column named `x`", None),
            ],
        ),
        (
            "connection scheme, pool and timeouts",
            "connections:\n  a: { url: \"postgress://h/db\", pool: { max: 2, min: 3 }, connect_timeout: 0s }\n  b: { url: \"${env:B}\", tls: { mode: verify } }\n",
            &[
                (3, 13, "connections.a.url", "unknown database URL scheme `postgress`", Some("postgres")),
                (3, 54, "connections.a.pool.min", "`pool.min` (3) is greater than `pool.max` (2)", None),
                (3, 76, "connections.a.connect_timeout", "must be longer than 0s", None),
                (4, 38, "connections.b.tls.mode", "unknown variant `verify`", Some("verify-full")),
            ],
        ),
    ];
    for (name, body, want) in cases {
        check(name, body, want);
    }
}

#[test]
fn functions_pipelines_queues() {
    let cases: &[(&str, &str, &[Want])] = &[
        (
            "phase constraints",
            "functions:\n  f: { run: x }\nbuckets:\n  inbound: {}\npipelines:\n  p:\n    phases:\n      - { name: a, function: f, uses: move }\n      - { name: a }\n      - { name: Load, function: f, with: { x: 1 } }\n      - { name: d, uses: copy, fan_out: { over: items } }\n      - { name: e, function: f, fan_out: { over: { objects: { bucket: inbond } }, max_concurrency: 0 }, fn_out: 1 }\n",
            &[
                (9, 33, "pipelines.p.phases[0].uses", "takes exactly one of `function`, `uses`", None),
                (10, 17, "pipelines.p.phases[1].name", "duplicate phase name `a` (also used by phases[0] on line 9)", None),
                (10, 9, "pipelines.p.phases[1]", "needs exactly one of `function`, `uses`", None),
                (11, 17, "pipelines.p.phases[2].name", "invalid phase name `Load`", Some("load")),
                (11, 36, "pipelines.p.phases[2].with", "only applies to built-in steps", None),
                (12, 49, "pipelines.p.phases[3].fan_out.over", "must be a JSON path starting with `$`", Some("$.items")),
                (13, 71, "pipelines.p.phases[4].fan_out.over.objects.bucket", "no bucket named `inbond`", Some("inbound")),
                (13, 100, "pipelines.p.phases[4].fan_out.max_concurrency", "must be at least 1", None),
                (13, 105, "pipelines.p.phases[4].fn_out", "unknown field `fn_out`", Some("fan_out")),
            ],
        ),
        (
            "queue references",
            "queues:\n  a: { dead_letter: dlq }\n  b: { target: {} }\n  c: { target: { function: f, pipeline: p } }\n  d: { max_receive_count: 0, visibility_timeout: 0 }\nfunctions:\n  f: { run: x }\npipelines:\n  p: { phases: [ { name: x, function: f } ] }\n",
            &[
                (3, 21, "queues.a.dead_letter", "no queue named `dlq`", None),
                (4, 8, "queues.b.target", "needs exactly one of `function`, `pipeline`, `queue` or `topic`", None),
                (5, 31, "queues.c.target.pipeline", "exactly one destination, found `function` and `pipeline`", None),
                (6, 27, "queues.d.max_receive_count", "must be at least 1", None),
                (6, 50, "queues.d.visibility_timeout", "must be longer than 0s", None),
            ],
        ),
        (
            "permission lists",
            "functions:\n  f:\n    run: x\n    permissions:\n      tables: [studnts]\n      topics: [done]\n      queues: [q]\ntables:\n  students: {}\n",
            &[
                (6, 16, "functions.f.permissions.tables[0]", "no table named `studnts`", Some("students")),
                (7, 16, "functions.f.permissions.topics[0]", "the project declares no topics", None),
                (8, 16, "functions.f.permissions.queues[0]", "no queue named `q`", None),
            ],
        ),
    ];
    for (name, body, want) in cases {
        check(name, body, want);
    }
}

#[test]
fn topics_triggers_rules() {
    let cases: &[(&str, &str, &[Want])] = &[
        (
            "subscriptions",
            "topics:\n  t:\n    subscriptions:\n      - {}\n      - webhook: { url: \"ftp://x\" }\n      - email: { to: [nobody], from: a@b, smtp: { host: h } }\n",
            &[
                (5, 9, "topics.t.subscriptions[0]", "needs exactly one of `webhook`, `email`", None),
                (6, 25, "topics.t.subscriptions[1].webhook.url", "starts with `http://` or `https://`", None),
                (7, 23, "topics.t.subscriptions[2].email.to[0]", "`nobody` is not an email address", None),
            ],
        ),
        (
            "bad smtp tls",
            "topics:\n  t:\n    subscriptions:\n      - email: { to: [a@b], from: a@b, smtp: { host: h, tls: ssl } }\n",
            &[(5, 62, "topics.t.subscriptions[0].email.smtp.tls", "unknown variant `ssl`, expected one of `starttls`, `tls`, `none`", None)],
        ),
        (
            "trigger sources",
            "functions:\n  f: { run: x }\nbuckets:\n  inbound: {}\ntriggers:\n  a: { schedule: \"0 2 * * *\", http: { path: /a }, target: { function: f } }\n  b: { timezone: UTC, target: { function: f } }\n  c: { schedule: \"0 2 * * *\", catch_up: twice, target: { function: f } }\n  d: { http: { path: tasks }, target: { function: f } }\n  g: { http: { path: /x, methods: [post] }, target: { function: f } }\n  h: { bucket: { name: inbond, events: [\"s3:ObjectDeleted:*\"] }, target: { function: f } }\n  i: { event: { pattern: {} }, overlap: skip, target: { topic: t } }\n",
            &[
                (7, 31, "triggers.a.http", "takes exactly one of `schedule`, `http`, `bucket`, `event`; `schedule` and `http` are both set", None),
                (8, 3, "triggers.b", "needs exactly one of", None),
                (8, 8, "triggers.b.timezone", "only applies to `schedule` triggers", None),
                (9, 41, "triggers.c.catch_up", "unknown variant `twice`, expected `skip` or `once`", None),
                (10, 22, "triggers.d.http.path", "starts with `/`", Some("/tasks")),
                (11, 36, "triggers.g.http.methods[0]", "unknown variant `post`", Some("POST")),
                (12, 24, "triggers.h.bucket.name", "no bucket named `inbond`", Some("inbound")),
                (12, 41, "triggers.h.bucket.events[0]", "unknown S3 event type `s3:ObjectDeleted:*`", Some("s3:ObjectCreated:*")),
                (13, 26, "triggers.i.event.pattern", "must not be empty", None),
                (13, 32, "triggers.i.overlap", "only applies to `schedule` triggers", None),
                (13, 64, "triggers.i.target.topic", "no topic named `t`", None),
            ],
        ),
        (
            "schedule shape, duplicate http paths",
            "functions:\n  f: { run: x }\ntriggers:\n  a: { schedule: \"every day\", target: { function: f } }\n  b: { http: { path: /x }, target: { function: f } }\n  c: { http: { path: /x }, auth: { tokens: [] }, target: { function: f } }\n",
            &[
                (5, 18, "triggers.a.schedule", "invalid schedule `every day`", None),
                (7, 22, "triggers.c.http.path", "already used by trigger `b`", None),
            ],
        ),
        (
            "rules",
            "rules:\n  a: { pattern: [x], targets: [] }\n  b:\n    pattern: { source: [shop] }\n    targets:\n      - { queue: orders, topic: t }\n      - { functon: f }\n",
            &[
                (3, 17, "rules.a.pattern", "an event pattern is a map", None),
                (3, 31, "rules.a.targets", "at least one target", None),
                (7, 26, "rules.b.targets[0].topic", "exactly one destination", None),
                (8, 9, "rules.b.targets[1]", "needs exactly one of", None),
                (8, 11, "rules.b.targets[1].functon", "unknown field `functon`", Some("function")),
            ],
        ),
        (
            "malformed patterns, at the offending key",
            "functions:\n  f: { run: x }\nrules:\n  a:\n    pattern:\n      source: shop\n    targets: [{ function: f }]\n  b:\n    pattern: { detail: { kind: [{ prefx: a }] } }\n    targets: [{ function: f }]\n  c:\n    pattern: { $or: [{ source: [a] }, { detail: { n: [{ exists: maybe }] } }] }\n    targets: [{ function: f }]\n",
            &[
                (7, 7, "rules.a.pattern.source", "invalid event pattern: match values must be in a list", None),
                (10, 35, "rules.b.pattern.detail.kind[0].prefx", "unknown operator `prefx`", None),
                (13, 57, "rules.c.pattern.$or[1].detail.n[0].exists", "`exists` takes true or false", None),
            ],
        ),
    ];
    for (name, body, want) in cases {
        check(name, body, want);
    }
}
