//! The warehouse extract end to end, against the real PostgreSQL and
//! MariaDB: a schedule fires (by the clock, or `sluice trigger`), every SQL
//! file in the queries bucket becomes its own step and its own object; a
//! broken file fails alone, is fixed in the bucket, and is rerun alone with
//! the original parameters; bad input fails with a clear error and leaves
//! no object; `examples/warehouse-extract` runs as the README says. A
//! missing database fails the tests, it never skips them.

mod common;
mod extract_support;

use common::*;
use extract_support::*;
use serde_json::Value;

/// A project extracting every `.sql` under `queries/sql/` with `connection`,
/// on a schedule that fires only on demand in these tests (02:00 UTC).
fn project_yaml(url: &str, format: &str, compression: &str) -> String {
    scheduled_yaml(url, format, compression, "cron(0 2 * * ? *)")
}

/// [`project_yaml`] with the `nightly` trigger on `schedule`.
fn scheduled_yaml(url: &str, format: &str, compression: &str, schedule: &str) -> String {
    format!(
        r#"
version: 1
buckets:
  queries: {{ versioning: true }}
  extracts: {{ versioning: true }}
connections:
  warehouse: {{ url: "{url}", pool: {{ max: 2 }} }}
  offline: {{ url: "postgres://postgres@127.0.0.1:9/test", connect_timeout: 2s }}
  impatient: {{ url: "{url}", query_timeout: 1s }}
pipelines:
  nightly:
    retry: {{ max_attempts: 1 }}
    phases:
      - name: extract
        uses: sql-extract
        fan_out:
          over: {{ objects: {{ bucket: queries, prefix: sql/, suffix: .sql }} }}
          max_concurrency: 3
        with:
          connection: warehouse
          to_bucket: extracts
          format: {format}
          compression: {compression}
          params: {{ min_id: 2 }}
  offline:
    retry: {{ max_attempts: 1 }}
    phases:
      - name: extract
        uses: sql-extract
        with: {{ connection: offline, to_bucket: extracts, from_bucket: queries, from_key: sql/customers.sql }}
  impatient:
    retry: {{ max_attempts: 1 }}
    phases:
      - name: extract
        uses: sql-extract
        with: {{ connection: impatient, to_bucket: extracts, from_bucket: queries, from_key: slow/sleep.sql }}
triggers:
  nightly:
    schedule: "{schedule}"
    target: {{ pipeline: nightly }}
"#
    )
}

/// The step named `name` of a run.
fn step<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no step {name} in {run}"))
}

/// The lines Sluice and handlers logged for `step_name`.
fn step_log(server: &Server, run_id: &str, step_name: &str) -> String {
    run_logs(server, run_id)
        .iter()
        .filter(|l| l["step"] == step_name)
        .map(|l| l["line"].as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Fires the schedule and waits for its run.
fn trigger(server: &Server) -> Value {
    let fired = server.cli_json(&["trigger", "nightly", "--no-wait"]);
    let run_id = fired["run_id"].as_str().expect("a run id").to_string();
    server.wait_run(&run_id)
}

/// A broken file fails alone and the run fails; fixed in the bucket and
/// rerun alone, it reads the new version with the original logical date,
/// and every run after adds a version of each result.
fn broken_file_fixed_and_rerun_alone(db: &Database, format: &str, compression: &str, ext: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(
        &tmp.path().join("p"),
        &project_yaml(&db.url, format, compression),
        &[],
    );
    let server = Server::start(&dir, &tmp.path().join("data"));
    let t = &db.tables;
    let files = tmp.path().join("sql");
    write_files(
        &files,
        &[
            (
                "customers.sql",
                format!("SELECT id, name FROM {} WHERE id >= {{{{ params.min_id }}}} ORDER BY id", t.customers).as_bytes(),
            ),
            (
                "orders.sql",
                format!("SELECT id,\n       amount\n  FORM {}\n WHERE placed_at < {{{{ logical_date }}}}\n ORDER BY id\n", t.orders).as_bytes(),
            ),
        ],
    );
    upload_dir(&server, &files, "s3://queries/sql/");

    let run = trigger(&server);
    let run_id = run["id"].as_str().unwrap().to_string();
    assert_eq!(run["status"], "failed", "{run}");
    assert!(
        run["error"].as_str().unwrap().contains("orders.sql"),
        "{run}"
    );
    let logical_date = run["input"]["detail"]["logical_date"]
        .as_str()
        .unwrap()
        .to_string();
    let date = &logical_date[..10];
    let customers = step(&run, "customers.sql");
    assert_eq!(customers["status"], "succeeded");
    assert_eq!(customers["output"]["rows"], 2);
    assert_eq!(customers["output"]["logical_date"], logical_date.as_str());
    let orders = step(&run, "orders.sql");
    assert_eq!(orders["status"], "failed");
    let error = orders["error"].as_str().unwrap();
    assert!(
        error.starts_with("orders.sql:3:8: ") && error.contains("syntax"),
        "the database's error at its place in the file: {error}"
    );
    let log = step_log(&server, &run_id, "orders.sql");
    assert!(
        log.contains("  FORM ") && log.contains("|        ^"),
        "the line and a caret:\n{log}"
    );
    let log = step_log(&server, &run_id, "customers.sql");
    for expected in [
        "sql-extract customers.sql: s3://queries/sql/customers.sql version ",
        "sha256 ",
        &format!("connection `warehouse` ({})", db.url),
        "extracted 2 rows",
        &format!("wrote s3://extracts/extracts/customers/{date}.{ext} version "),
    ] {
        assert!(log.contains(expected), "missing `{expected}` in:\n{log}");
    }
    let keys = object_keys(&server, "extracts");
    assert_eq!(
        keys,
        [format!("extracts/customers/{date}.{ext}")],
        "no object for the failed file"
    );

    // Fix the file in the bucket, then rerun only it.
    write_files(
        &files,
        &[(
            "orders.sql",
            format!("SELECT id,\n       amount\n  FROM {}\n WHERE placed_at < {{{{ logical_date }}}}\n ORDER BY id\n", t.orders).as_bytes(),
        )],
    );
    upload_file(
        &server,
        &files.join("orders.sql"),
        "s3://queries/sql/orders.sql",
    );
    let rerun = server.cli_json(&["rerun", &run_id, "--step", "orders.sql"]);
    assert_eq!(rerun["status"], "succeeded", "{rerun}");
    let run = server.get(&format!("/v1/runs/{run_id}"));
    let orders = step(&run, "orders.sql");
    let attempts: Vec<&str> = orders["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        attempts,
        ["failed", "succeeded"],
        "the run shows both attempts"
    );
    assert_eq!(
        step(&run, "customers.sql")["attempts"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "not rerun"
    );
    assert_eq!(
        orders["output"]["logical_date"],
        logical_date.as_str(),
        "the original logical date"
    );
    assert_eq!(
        orders["output"]["rows"], 3,
        "only orders placed before the logical date"
    );
    let first_sql = orders["attempts"][0]["output"]["sql"]["version_id"].clone();
    assert_ne!(
        orders["output"]["sql"]["version_id"], first_sql,
        "the fixed version ran"
    );
    let orders_key = format!("extracts/orders/{date}.{ext}");
    assert!(object_keys(&server, "extracts").contains(&orders_key));

    // A file dropped now is picked up by the next run; results get new versions.
    write_files(
        &files,
        &[(
            "count.sql",
            format!("SELECT count(*) AS n FROM {}", t.orders).as_bytes(),
        )],
    );
    upload_file(
        &server,
        &files.join("count.sql"),
        "s3://queries/sql/count.sql",
    );
    let second = trigger(&server);
    assert_eq!(second["status"], "succeeded", "{second}");
    assert_eq!(step(&second, "count.sql")["status"], "succeeded");
    let second_date = &second["input"]["detail"]["logical_date"].as_str().unwrap()[..10];
    if second_date == date {
        assert_eq!(
            versions(&server, "extracts", &orders_key),
            2,
            "each run adds a version"
        );
    }
    let object = fetch(
        &server,
        "extracts",
        &format!("extracts/customers/{second_date}.{ext}"),
    );
    db.check_customers(&object, format, compression);
}

#[test]
fn postgres_extract_fails_one_file_alone_then_reruns_it_fixed() {
    let db = Database::postgres();
    broken_file_fixed_and_rerun_alone(&db, "csv", "none", "csv");
}

#[test]
fn mariadb_extract_fails_one_file_alone_then_reruns_it_fixed() {
    let db = Database::mariadb();
    broken_file_fixed_and_rerun_alone(&db, "parquet", "zstd", "parquet");
}

/// What fails where the dialects differ: a query that fails after rows
/// have streamed, a column type no output holds, a query that sleeps.
struct BadSql {
    halfway: &'static str,
    halfway_error: &'static str,
    shape: &'static str,
    shape_error: &'static str,
    sleep: &'static str,
}

const POSTGRES_BAD: BadSql = BadSql {
    halfway: "SELECT n, 1 / (50000 - n) AS x FROM generate_series(1, 100000) AS n",
    halfway_error: "halfway.sql: division by zero (22012)",
    shape: "SELECT 1 AS id,\n  point(1, 2) AS shape",
    shape_error: "column `shape` has the database type `point`, which sql-extract cannot map to an output type; convert it in the query, e.g. `CAST(shape AS text)`",
    sleep: "SELECT 1 AS slept FROM pg_sleep(30)",
};

const MARIADB_BAD: BadSql = BadSql {
    // A scalar subquery that returns two rows once seq passes 50000.
    halfway: "SELECT seq AS n, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE seq > 50000) AS x \
              FROM seq_1_to_100000",
    halfway_error: "halfway.sql: Subquery returns more than 1 row (1242 21000)",
    shape: "SELECT 1 AS id,\n  ST_GeomFromText('POINT(1 2)') AS shape",
    shape_error: "column `shape` has the database type `geometry`, which sql-extract cannot map to an output type; convert it in the query, e.g. `CAST(shape AS CHAR)`",
    sleep: "SELECT SLEEP(30) AS slept",
};

/// Bad input fails its own step with a clear error in its log and writes
/// nothing, the good file is unaffected; a query past `query_timeout` is
/// cancelled; an unreachable warehouse fails fast.
fn bad_input_fails_alone(db: &Database, bad: &BadSql) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(
        &tmp.path().join("p"),
        &project_yaml(&db.url, "csv", "gzip"),
        &[],
    );
    let server = Server::start(&dir, &tmp.path().join("data"));
    let files = tmp.path().join("sql");
    write_files(
        &files,
        &[
            (
                "customers.sql",
                format!("SELECT id, name FROM {} ORDER BY id", db.tables.customers).as_bytes(),
            ),
            ("latin1.sql", b"SELECT 'caf\xe9' AS word\n"),
            ("halfway.sql", bad.halfway.as_bytes()),
            ("shape.sql", bad.shape.as_bytes()),
            ("template.sql", b"SELECT {{ params.nope }} AS x"),
        ],
    );
    upload_dir(&server, &files, "s3://queries/sql/");
    let run = trigger(&server);
    assert_eq!(run["status"], "failed");
    let run_id = run["id"].as_str().unwrap();
    let date = &run["input"]["detail"]["logical_date"].as_str().unwrap()[..10];
    assert_eq!(
        step(&run, "customers.sql")["status"],
        "succeeded",
        "the good file is unaffected"
    );
    let expectations = [
        (
            "latin1.sql",
            "not UTF-8 text: invalid byte 0xe9 at line 1, column 12",
        ),
        ("halfway.sql", bad.halfway_error),
        ("shape.sql", bad.shape_error),
        (
            "template.sql",
            "template.sql:1:8: unknown template value `params.nope`",
        ),
    ];
    for (name, expected) in expectations {
        let failed = step(&run, name);
        assert_eq!(failed["status"], "failed", "{name}");
        let error = failed["error"].as_str().unwrap();
        assert!(
            error.contains(expected),
            "{name}: `{expected}` not in `{error}`"
        );
        let log = step_log(&server, run_id, name);
        assert!(
            log.contains(&format!("attempt failed: {error}")),
            "{name} logs its failure:\n{log}"
        );
    }
    assert!(step_log(&server, run_id, "halfway.sql").contains("nothing was written"));
    assert_eq!(
        object_keys(&server, "extracts"),
        [format!("extracts/customers/{date}.csv.gz")],
        "only the good file's result exists"
    );

    // A query past the connection's query_timeout is cancelled, its step fails.
    write_files(&files, &[("sleep.sql", bad.sleep.as_bytes())]);
    upload_file(
        &server,
        &files.join("sleep.sql"),
        "s3://queries/slow/sleep.sql",
    );
    let started = std::time::Instant::now();
    let accepted = server.post("/v1/pipelines/impatient/runs", &serde_json::json!({}));
    let impatient = server.wait_run(accepted["run_id"].as_str().unwrap());
    assert_eq!(impatient["status"], "failed", "{impatient}");
    let error = step(&impatient, "extract")["error"].as_str().unwrap();
    assert!(
        error.contains("sleep.sql: the query ran longer than the connection's query_timeout (1s) and was cancelled"),
        "{error}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "cancelled, not waited out: {:?}",
        started.elapsed()
    );
    assert!(!object_keys(&server, "extracts")
        .iter()
        .any(|k| k.contains("sleep")));

    // A warehouse that cannot be reached fails fast, naming it.
    let started = std::time::Instant::now();
    let accepted = server.post("/v1/pipelines/offline/runs", &serde_json::json!({}));
    let offline = server.wait_run(accepted["run_id"].as_str().unwrap());
    assert_eq!(offline["status"], "failed");
    let error = step(&offline, "extract")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains(
            "connection `offline` (postgres://postgres@127.0.0.1:9/test): cannot connect"
        ),
        "{error}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn postgres_bad_input_fails_its_own_step_clearly_and_writes_nothing() {
    bad_input_fails_alone(&Database::postgres(), &POSTGRES_BAD);
}

#[test]
fn mariadb_bad_input_fails_its_own_step_clearly_and_writes_nothing() {
    bad_input_fails_alone(&Database::mariadb(), &MARIADB_BAD);
}

/// One extract of `sql/pinned.sql` whose `with.params` has a literal
/// (`min_id`) and a value read from the run's input (`day`).
fn pinned_yaml(url: &str, min_id: u32) -> String {
    format!(
        r#"
version: 1
buckets:
  queries: {{ versioning: true }}
  extracts: {{ versioning: true }}
connections:
  warehouse: {{ url: "{url}" }}
pipelines:
  pinned:
    retry: {{ max_attempts: 1 }}
    phases:
      - name: extract
        uses: sql-extract
        with:
          connection: warehouse
          from_bucket: queries
          from_key: sql/pinned.sql
          to_bucket: extracts
          format: jsonl
          params: {{ min_id: {min_id}, day: "$.detail.logical_date" }}
triggers:
  pinned:
    schedule: cron(0 2 * * ? *)
    target: {{ pipeline: pinned }}
"#
    )
}

/// A rerun repeats the original run: `sluice.yaml` changed `min_id` between
/// the run and the rerun (a restart with the new file), yet the rerun
/// reads `min_id` and the `$.path` value as the first attempt resolved them.
#[test]
fn a_rerun_uses_the_parameters_the_first_attempt_resolved() {
    let db = Database::postgres();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let dir = project(&tmp.path().join("p"), &pinned_yaml(&db.url, 2), &[]);
    let server = Server::start(&dir, &data);
    let sql = |verb: &str| {
        format!(
            "SELECT id, {{{{ params.day }}}} AS day\n  {verb} {}\n WHERE id >= {{{{ params.min_id }}}} ORDER BY id",
            db.tables.customers
        )
    };
    let files = tmp.path().join("sql");
    write_files(&files, &[("pinned.sql", sql("FORM").as_bytes())]);
    upload_file(
        &server,
        &files.join("pinned.sql"),
        "s3://queries/sql/pinned.sql",
    );
    let fired = server.cli_json(&["trigger", "pinned", "--no-wait"]);
    let run_id = fired["run_id"].as_str().unwrap().to_string();
    let run = server.wait_run(&run_id);
    assert_eq!(run["status"], "failed", "{run}");
    let logical_date = run["input"]["detail"]["logical_date"]
        .as_str()
        .unwrap()
        .to_string();
    let first = &step(&run, "extract")["attempts"][0]["output"]["resolved"];
    assert_eq!(
        first,
        &serde_json::json!({ "params": { "min_id": 2, "day": logical_date }, "logical_date": logical_date }),
        "the failed attempt recorded what it resolved"
    );

    server.kill();
    std::fs::write(dir.join("sluice.yaml"), pinned_yaml(&db.url, 3)).unwrap();
    let server = Server::start(&dir, &data);
    write_files(&files, &[("pinned.sql", sql("FROM").as_bytes())]);
    upload_file(
        &server,
        &files.join("pinned.sql"),
        "s3://queries/sql/pinned.sql",
    );
    let rerun = server.cli_json(&["rerun", &run_id, "--step", "extract"]);
    assert_eq!(rerun["status"], "succeeded", "{rerun}");
    let run = server.get(&format!("/v1/runs/{run_id}"));
    let extract = step(&run, "extract");
    assert_eq!(&extract["output"]["resolved"], first, "{extract}");
    assert!(
        step_log(&server, &run_id, "extract").contains("as attempt 1 resolved them"),
        "the rerun says where its parameters came from"
    );
    let key = extract["output"]["key"].as_str().unwrap();
    let lines: Vec<Value> = String::from_utf8(fetch(&server, "extracts", key))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            serde_json::json!({ "id": 2, "day": logical_date }),
            serde_json::json!({ "id": 3, "day": logical_date }),
        ],
        "min_id 2 as in the original run, not the edited 3"
    );
}

/// The schedule's run, once the clock has fired it (polls the API; 30 s).
fn wait_fired(server: &Server, schedule: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let all = server.get("/v1/schedules");
        let found = all
            .as_array()
            .and_then(|a| a.iter().find(|s| s["name"] == schedule))
            .unwrap_or_else(|| panic!("no schedule {schedule}: {all}"));
        if let Some(run_id) = found["last_run_id"].as_str() {
            return run_id.to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "schedule {schedule} did not fire: {found}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The clock, not `sluice trigger`, fires the extract: an `at(...)` a few
/// seconds ahead starts a run for that fire time, and every SQL file in
/// the bucket when it fires yields its object, dated by the fire time.
#[test]
fn the_clock_fires_the_extract_schedule() {
    let db = Database::postgres();
    let tmp = tempfile::tempdir().unwrap();
    let when = chrono::Utc::now() + chrono::Duration::seconds(6);
    let at = format!("at({})", when.format("%Y-%m-%dT%H:%M:%S"));
    let dir = project(
        &tmp.path().join("p"),
        &scheduled_yaml(&db.url, "csv", "none", &at),
        &[],
    );
    let server = Server::start(&dir, &tmp.path().join("data"));
    let files = tmp.path().join("sql");
    let t = &db.tables;
    write_files(
        &files,
        &[
            (
                "customers.sql",
                format!("SELECT id, name FROM {} ORDER BY id", t.customers).as_bytes(),
            ),
            (
                "count.sql",
                format!("SELECT count(*) AS n FROM {}", t.orders).as_bytes(),
            ),
        ],
    );
    upload_dir(&server, &files, "s3://queries/sql/");
    assert!(
        chrono::Utc::now() < when,
        "the upload took past the fire time; the test proves nothing"
    );
    let run = server.wait_run(&wait_fired(&server, "nightly"));
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["trigger"], "schedule:nightly", "fired by the clock");
    let logical_date = when.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert_eq!(
        run["input"]["detail"]["logical_date"],
        logical_date.as_str()
    );
    assert_eq!(step(&run, "customers.sql")["output"]["rows"], 3);
    assert_eq!(
        step(&run, "count.sql")["output"]["logical_date"],
        logical_date.as_str()
    );
    let date = &logical_date[..10];
    assert_eq!(
        object_keys(&server, "extracts"),
        [
            format!("extracts/count/{date}.csv"),
            format!("extracts/customers/{date}.csv"),
        ]
    );
}

/// A PostgreSQL database of its own, dropped afterwards: the example's
/// seed.sh recreates the `shop` schema, which must not race other tests.
struct ScratchDatabase {
    name: String,
}

impl ScratchDatabase {
    fn create() -> ScratchDatabase {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("sluice_example_{}_{nanos}", std::process::id());
        psql_admin(&format!("CREATE DATABASE {name}"));
        ScratchDatabase { name }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        psql_admin(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

fn psql_admin(sql: &str) {
    let out = std::process::Command::new("psql")
        .args([
            "postgres://postgres@127.0.0.1:5432/test",
            "-v",
            "ON_ERROR_STOP=1",
            "-qc",
            sql,
        ])
        .output()
        .expect("run psql");
    assert!(out.status.success(), "{sql}: {}", stderr(&out));
}

/// Runs one of the example's scripts; panics with its output on failure.
fn example_script(script: &std::path::Path, envs: &[(&str, &str)]) -> String {
    let out = std::process::Command::new("sh")
        .arg(script)
        .envs(envs.iter().copied())
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{} failed: {}{}",
        script.display(),
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// `examples/warehouse-extract` as the README runs it: it validates, its
/// seed.sh seeds a PostgreSQL database, upload.sh puts its SQL files into
/// the bucket, and the nightly schedule extracts each of them.
#[test]
fn the_warehouse_extract_example_validates_seeds_and_extracts() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/warehouse-extract")
        .canonicalize()
        .unwrap();
    let db = ScratchDatabase::create();
    let url = db.url();
    let validated = std::process::Command::new(SLUICE)
        .arg("validate")
        .arg(&example)
        .env("WAREHOUSE_URL", &url)
        .output()
        .expect("run sluice validate");
    assert!(
        validated.status.success(),
        "{}{}",
        stdout(&validated),
        stderr(&validated)
    );

    let seeded = example_script(&example.join("seed.sh"), &[("WAREHOUSE_URL", &url)]);
    assert!(seeded.contains("shop.orders (20000)"), "{seeded}");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start_env(
        &example,
        &data,
        &[],
        &[],
        std::process::Stdio::inherit(),
        &[("WAREHOUSE_URL", &url)],
    );
    let uploaded = example_script(
        &example.join("upload.sh"),
        &[
            ("SLUICE_DATA_DIR", data.to_str().unwrap()),
            ("SLUICE_S3", &server.s3),
        ],
    );
    assert!(uploaded.contains("uploaded 3 SQL files"), "{uploaded}");

    let run = trigger(&server);
    assert_eq!(run["status"], "succeeded", "{run}");
    let date = &run["input"]["detail"]["logical_date"].as_str().unwrap()[..10];
    assert_eq!(step(&run, "customers.sql")["output"]["rows"], 500);
    // seed.sh ties country and product to the customer id, with matching
    // parity: 100 of the 4 × 50 pairs occur.
    assert_eq!(step(&run, "revenue_by_country.sql")["output"]["rows"], 100);
    let daily = step(&run, "daily_orders.sql")["output"]["rows"]
        .as_u64()
        .unwrap();
    assert!(daily > 0, "orders of the logical day: {run}");
    let names = ["customers", "daily_orders", "revenue_by_country"];
    let expected: Vec<String> = names
        .iter()
        .map(|n| format!("extracts/{n}/{date}.csv.gz"))
        .collect();
    assert_eq!(object_keys(&server, "extracts"), expected);
}
