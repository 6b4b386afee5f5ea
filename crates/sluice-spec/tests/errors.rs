//! Each kind of error is reported at the right line:column, with the right
//! message and suggestion; several errors are reported at once.

use sluice_spec::{parse_project, Diagnostic, Severity};

/// (line, column, path, message fragment, suggestion)
type Want = (
    usize,
    usize,
    &'static str,
    &'static str,
    Option<&'static str>,
);

fn errors(text: &str) -> Vec<Diagnostic> {
    match parse_project("sluice.yaml", text) {
        Ok(p) => panic!(
            "expected errors, got a project (warnings: {:?})",
            p.warnings
        ),
        Err(d) => {
            d.0.into_iter()
                .filter(|d| d.severity == Severity::Error)
                .collect()
        }
    }
}

fn check(name: &str, text: &str, want: &[Want]) {
    let got = errors(text);
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
            d.line == *line
                && d.column == *column
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
fn headline_errors() {
    let cases: &[(&str, &str, &[Want])] = &[
        (
            "misspelt key",
            "version: 1\nfunctions:\n  resize:\n    run: ./resize\n    timout: 5m\n",
            &[(5, 5, "functions.resize.timout", "unknown field `timout`", Some("timeout"))],
        ),
        (
            "trigger targets a misspelt function",
            "version: 1\nfunctions:\n  resize: { run: ./resize }\ntriggers:\n  nightly:\n    schedule: \"0 2 * * *\"\n    target: { function: reszie }\n",
            &[(7, 25, "triggers.nightly.target.function", "no function named `reszie`", Some("resize"))],
        ),
        (
            "unknown built-in",
            "version: 1\npipelines:\n  etl:\n    phases:\n      - name: extract\n        uses: copy\n      - name: load\n        uses: csv-lod\n",
            &[(8, 15, "pipelines.etl.phases[1].uses", "unknown built-in step `csv-lod`", Some("csv-load"))],
        ),
        (
            "unknown secret provider points at the reference",
            "version: 1\nconnections:\n  db:\n    url: \"postgres://u:${vault:x}@h/db\"\n",
            &[(4, 24, "connections.db.url", "unknown secret provider `vault`", None)],
        ),
    ];
    for (name, text, want) in cases {
        check(name, text, want);
    }
}

#[test]
fn many_errors_at_once() {
    let text = "\
version: 1
functions:
  resize:
    run: ./resize
    timeout: soon
  other:
    run: ./x
    concurency: 3
queues:
  q:
    dead_letter: q
    target: { topic: t }
pipelines:
  p:
    phases: []
";
    check(
        "many",
        text,
        &[
            (
                5,
                14,
                "functions.resize.timeout",
                "invalid duration `soon`",
                None,
            ),
            (
                8,
                5,
                "functions.other.concurency",
                "unknown field `concurency`",
                Some("concurrency"),
            ),
            (
                11,
                18,
                "queues.q.dead_letter",
                "cannot dead-letter to itself",
                None,
            ),
            (12, 22, "queues.q.target.topic", "no topic named `t`", None),
            (
                12,
                15,
                "queues.q.target.topic",
                "consumed by a `function` or a `pipeline`",
                None,
            ),
            (15, 13, "pipelines.p.phases", "at least one phase", None),
        ],
    );
    // Diagnostics come in file order and the rendering ends with a summary.
    let err = parse_project("sluice.yaml", text).unwrap_err();
    let lines: Vec<usize> = err.iter().map(|d| d.line).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
    assert!(
        err.to_string()
            .ends_with("sluice.yaml: 6 errors, 0 warnings"),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("sluice.yaml:5:14: functions.resize.timeout: invalid duration"),
        "{err}"
    );
}

#[test]
fn document_level_errors() {
    let cases: &[(&str, &str, &[Want])] = &[
        (
            "unsupported version",
            "version: 2\n",
            &[(
                1,
                10,
                "version",
                "unsupported version 2; supported versions: 1",
                Some("1"),
            )],
        ),
        (
            "version not a number",
            "version: one\n",
            &[(1, 10, "version", "version must be an integer", Some("1"))],
        ),
        (
            "missing version",
            "project: x\n",
            &[(1, 1, "", "missing required field `version`", None)],
        ),
        (
            "empty file",
            "",
            &[(1, 1, "", "the project file is empty", None)],
        ),
        (
            "not a map",
            "- a\n- b\n",
            &[(1, 1, "", "expected a map of settings", None)],
        ),
        (
            "yaml syntax",
            "version: 1\nfunctions:\n  f: [a, b\n",
            &[(4, 1, "", "invalid YAML", None)],
        ),
        (
            "tab indentation",
            "version: 1\nfunctions:\n\tf: {}\n",
            &[(3, 1, "", "not tabs", None)],
        ),
        (
            "duplicate keys",
            "version: 1\nversion: 1\nfunctions:\n  f: { run: a, run: b }\n",
            &[
                (
                    2,
                    1,
                    "version",
                    "duplicate key `version` (first written on line 1)",
                    None,
                ),
                (4, 16, "functions.f.run", "duplicate key `run`", None),
            ],
        ),
        (
            "unknown top-level key",
            "version: 1\nfunction:\n  f: { run: x }\n",
            &[(
                2,
                1,
                "function",
                "unknown field `function`",
                Some("functions"),
            )],
        ),
        (
            "section not a map",
            "version: 1\nqueues: [a]\n",
            &[(
                2,
                9,
                "queues",
                "expected a map of queue names to settings, found a list",
                None,
            )],
        ),
        (
            "invalid name",
            "version: 1\nqueues:\n  Orders: {}\n",
            &[(
                3,
                3,
                "queues.Orders",
                "invalid queue name `Orders`: names must match ^[a-z][a-z0-9_-]{0,62}$",
                Some("orders"),
            )],
        ),
    ];
    for (name, text, want) in cases {
        check(name, text, want);
    }
}

#[test]
fn type_and_value_errors() {
    let f = |body: &str| format!("version: 1\nfunctions:\n  f:\n{body}");
    let cases: Vec<(&str, String, Vec<Want>)> = vec![
        ("bad enum value", f("    run: x\n    runtime: lamda\n"), vec![(5, 14, "functions.f.runtime", "unknown variant `lamda`", Some("lambda"))]),
        ("wrong type", f("    run: x\n    concurrency: many\n"), vec![(5, 18, "functions.f.concurrency", "expected a non-negative integer", None)]),
        ("missing field points at the resource", f("    timeout: 5s\n"), vec![(3, 3, "functions.f", "missing field `run`", None)]),
        ("bad size", f("    run: x\n    memory: 512 parsecs\n"), vec![(5, 13, "functions.f.memory", "invalid size `512 parsecs`", None)]),
        ("zero concurrency", f("    run: x\n    concurrency: 0\n"), vec![(5, 18, "functions.f.concurrency", "must be at least 1", None)]),
        ("unbalanced quotes", f("    run: \"python3 'x\"\n"), vec![(4, 10, "functions.f.run", "unbalanced quotes", None)]),
        ("lambda needs handler", f("    run: x\n    runtime: lambda\n"), vec![(5, 14, "functions.f.runtime", "needs `handler`", None)]),
        ("nested unknown key", f("    run: x\n    retry:\n      backoff: { initial: 1s, jiter: 0.1 }\n"), vec![(6, 31, "functions.f.retry.backoff.jiter", "unknown field `jiter`", Some("jitter"))]),
        ("bad backoff values", f("    run: x\n    retry: { backoff: { multiplier: 0.5, initial: 10m, max: 1m } }\n"), vec![
            (5, 37, "functions.f.retry.backoff.multiplier", "at least 1.0", None),
            (5, 51, "functions.f.retry.backoff.initial", "is longer than `max`", None),
        ]),
        ("unknown permission bucket", f("    run: x\n    permissions: { buckets: { inbond: read } }\nbuckets:\n  inbound: {}\n"), vec![(5, 31, "functions.f.permissions.buckets.inbond", "no bucket named `inbond`", Some("inbound"))]),
        ("bad access", f("    run: x\n    permissions: { buckets: { b: rw } }\nbuckets:\n  b: {}\n"), vec![(5, 34, "functions.f.permissions.buckets.b", "unknown variant `rw`", None)]),
        ("bad env name", f("    run: x\n    env: { 9LIVES: x }\n"), vec![(5, 12, "functions.f.env.9LIVES", "invalid environment variable name", None)]),
        ("env reference without provider", f("    run: x\n    env: { A: \"${TOKEN}\" }\n"), vec![(5, 16, "functions.f.env.A", "names no provider", Some("${env:TOKEN}"))]),
    ];
    for (name, text, want) in &cases {
        check(name, text, want);
    }
}
