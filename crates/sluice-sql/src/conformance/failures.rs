//! Conformance checks of what goes wrong: unmappable types, queries failing
//! part-way or running too long, abandoned results, pool limits, databases
//! that cannot be reached, TLS that cannot be had (and TLS that can).

use super::{collect, Harness};
use crate::SqlError;
use futures::StreamExt;
use sluice_spec::TlsMode;
use std::time::{Duration, Instant};

/// Longest a check waits for something that should be prompt.
const PROMPT: Duration = Duration::from_secs(10);

pub async fn unmappable_columns_are_refused_before_any_row(h: Harness) {
    let Some(sql) = &h.unmappable_sql else {
        return; // every type of this backend maps
    };
    let w = h.open();
    let error = w.query(sql).await.err().expect("an unmappable column");
    match &error {
        SqlError::UnsupportedType { column, .. } => assert_eq!(column, "shape"),
        other => panic!("expected UnsupportedType, got {other:?}"),
    }
    assert!(
        error.to_string().contains("CAST(shape AS"),
        "suggests a fix: {error}"
    );
}

pub async fn a_failure_part_way_ends_the_stream_with_the_error(h: Harness) {
    let w = h.open();
    let t = h.digits(w.as_ref()).await;
    let sql = h.fails_part_way_sql.replace("{digits}", &t);
    let outcome = w.query(&sql).await;
    let (batches, error) = match outcome {
        Ok(rows) => collect(rows).await,
        Err(e) => (Vec::new(), Some(e)),
    };
    h.drop_table(w.as_ref(), &t).await;
    let error = error.expect("the stream ends with the error, not silently");
    assert!(matches!(error, SqlError::Query { .. }), "{error:?}");
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert!(rows < 100_000, "not every row arrived ({rows})");
}

pub async fn query_timeout_cancels_and_frees_the_connection(h: Harness) {
    let mut settings = h.settings();
    settings.pool_max = 1;
    settings.query_timeout = Some(Duration::from_millis(300));
    let w = h.open_with(settings);
    let started = Instant::now();
    let outcome = tokio::time::timeout(PROMPT, async {
        match w.query(&h.slow_sql).await {
            Ok(rows) => collect(rows).await.1,
            Err(e) => Some(e),
        }
    })
    .await
    .expect("the timeout strikes");
    assert!(
        matches!(outcome, Some(SqlError::Timeout { .. })),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // The only connection is usable again.
    let rows = tokio::time::timeout(PROMPT, w.query("SELECT 1 AS one"))
        .await
        .expect("the connection came back")
        .expect("query after a timeout");
    assert!(collect(rows).await.1.is_none());
}

pub async fn an_abandoned_result_frees_its_connection(h: Harness) {
    let mut settings = h.settings();
    settings.pool_max = 1;
    let w = h.open_with(settings);
    let t = h.digits(w.as_ref()).await;
    let sql = format!("SELECT a.d, b.d, c.d, e.d FROM {t} a, {t} b, {t} c, {t} e, {t} f");
    let mut rows = w.query(&sql).await.expect("query");
    let first = rows.batches.next().await.expect("a batch").expect("rows");
    assert!(first.num_rows() > 0);
    drop(rows);
    let next = tokio::time::timeout(PROMPT, w.query("SELECT 1 AS one"))
        .await
        .expect("the connection was given back")
        .expect("query");
    assert!(collect(next).await.1.is_none());
    h.drop_table(w.as_ref(), &t).await;
}

pub async fn the_pool_bounds_connections(h: Harness) {
    let mut settings = h.settings();
    settings.pool_max = 2;
    let w = h.open_with(settings);
    let t = h.digits(w.as_ref()).await;
    // Large results keep their producer (and its connection) busy until read.
    let sql = format!("SELECT a.d, b.d, c.d, e.d FROM {t} a, {t} b, {t} c, {t} e, {t} f");
    let first = w.query(&sql).await.expect("first");
    let second = w.query(&sql).await.expect("second");
    assert_eq!(w.pool_status().in_use, 2);
    let third = w.query("SELECT 1 AS one");
    tokio::pin!(third);
    let waited = tokio::time::timeout(Duration::from_millis(300), &mut third).await;
    assert!(waited.is_err(), "a third query waits for a free connection");
    drop(first);
    let third = tokio::time::timeout(PROMPT, third)
        .await
        .expect("runs once a connection is free")
        .expect("query");
    assert!(collect(third).await.1.is_none());
    drop(second);
    assert!(w.pool_status().open <= 2, "{:?}", w.pool_status());
    h.drop_table(w.as_ref(), &t).await;
}

pub async fn an_unreachable_database_fails_fast_and_clearly(h: Harness) {
    let mut settings = h.settings();
    settings.url = h.unreachable_url.clone();
    settings.shown = crate::redact(&settings.url);
    settings.connect_timeout = Duration::from_secs(2);
    let started = Instant::now();
    let error = match crate::open(settings) {
        Err(e) => e,
        Ok(w) => tokio::time::timeout(PROMPT, w.query("SELECT 1"))
            .await
            .expect("gives up within the connect timeout")
            .err()
            .expect("an error"),
    };
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(matches!(error, SqlError::Connect { .. }), "{error:?}");
    assert!(
        error.to_string().contains("`warehouse`"),
        "names the connection: {error}"
    );
}

pub async fn tls_that_cannot_be_had_is_an_error_not_a_downgrade(h: Harness) {
    let mut settings = h.settings();
    // Against a server with TLS, verify-full fails on a certificate no
    // trusted CA signed; against one without, require fails.
    settings.tls = match h.server_tls {
        Some(true) => TlsMode::VerifyFull,
        _ => TlsMode::Require,
    };
    let error = match (crate::open(settings), h.server_tls) {
        (Err(e), None) => e,
        (Ok(_), None) => panic!("TLS does not apply, yet it was accepted"),
        (Err(e), Some(_)) => panic!("open failed: {e}"),
        (Ok(w), Some(_)) => w.query("SELECT 1 AS one").await.err().expect("refused"),
    };
    assert!(
        error.to_string().contains("TLS"),
        "says TLS is the problem: {error}"
    );
    if h.server_tls.is_some() {
        assert!(matches!(error, SqlError::Tls { .. }), "{error:?}");
    }
}

/// Whether a connection in `mode` is encrypted, by the harness's probe.
async fn encrypted(h: &Harness, mode: TlsMode) -> Option<bool> {
    let probe = h.encrypted_sql.as_ref()?;
    let mut settings = h.settings();
    settings.tls = mode;
    let w = h.open_with(settings);
    let (batches, error) = collect(w.query(probe).await.expect("probe")).await;
    assert!(error.is_none(), "{error:?}");
    let column = batches[0].column(0);
    Some(arrow_array::cast::AsArray::as_boolean(column).value(0))
}

pub async fn tls_prefer_falls_back_to_plain(h: Harness) {
    let mut settings = h.settings();
    settings.tls = TlsMode::Prefer;
    let w = h.open_with(settings);
    let rows = w.query("SELECT 1 AS one").await.expect("query");
    assert!(collect(rows).await.1.is_none());
    if h.server_tls == Some(true) {
        assert_eq!(
            encrypted(&h, TlsMode::Prefer).await,
            Some(true),
            "prefer uses TLS when offered"
        );
        assert_eq!(encrypted(&h, TlsMode::Require).await, Some(true));
        assert_eq!(encrypted(&h, TlsMode::Disable).await, Some(false));
    }
}

/// A URL for this dialect pointing at `port` on loopback (`None`: the
/// backend is a file, there is no server to go silent).
fn loopback_url(h: &Harness, port: u16) -> Option<String> {
    match h.dialect {
        crate::Dialect::Postgres => Some(format!("postgres://postgres@127.0.0.1:{port}/test")),
        crate::Dialect::MySql => Some(format!("mysql://root@127.0.0.1:{port}/test")),
        crate::Dialect::Sqlite => None,
    }
}

/// A server that accepts TCP connections and never says a word: the
/// connect_timeout must still bound the step, in every TLS mode that would
/// otherwise wait for the server (a `prefer` probe included).
pub async fn a_server_that_never_answers_times_out_clearly(h: Harness) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a silent listener");
    let Some(url) = loopback_url(&h, listener.local_addr().unwrap().port()) else {
        return;
    };
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket); // kept open, never written to
        }
    });
    for tls in [TlsMode::Disable, TlsMode::Prefer] {
        let mut settings = h.settings();
        settings.url = url.clone();
        settings.shown = crate::redact(&url);
        settings.connect_timeout = Duration::from_millis(500);
        settings.tls = tls;
        let w = h.open_with(settings);
        let started = Instant::now();
        let error = tokio::time::timeout(PROMPT, w.query("SELECT 1 AS one"))
            .await
            .unwrap_or_else(|_| panic!("{tls:?}: hung past the connect_timeout"))
            .err()
            .expect("a silent server yields no rows");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(450) && took < Duration::from_secs(3),
            "{tls:?}: gave up after {took:?}, not at the 500 ms connect_timeout"
        );
        assert!(
            matches!(error, SqlError::Connect { .. }),
            "{tls:?}: {error:?}"
        );
        let text = error.to_string();
        assert!(
            text.contains("connect_timeout") && text.contains("`warehouse`"),
            "{tls:?}: names the connection and the timeout: {text}"
        );
    }
    silent.abort();
}
