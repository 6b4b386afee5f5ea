//! `sluice up`: load the project, open the state store, start the engine and
//! serve the API until interrupted.

use crate::cli::{AuthArg, UpArgs};
use anyhow::{Context, Result};
use sluice_core::time::system_clock;
use sluice_engine::plan::{self, PlanOptions};
use sluice_engine::{Engine, EngineOptions};
use sluice_server::AuthMode;
use sluice_store::sqlite::SqliteStore;
use sluice_store::Store;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

pub async fn run(args: UpArgs) -> Result<ExitCode> {
    raise_open_files_limit();
    let project = match sluice_spec::load_project(&args.dir) {
        Ok(project) => project,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            return Ok(ExitCode::from(2));
        }
    };
    for warning in project.warnings.iter() {
        tracing::warn!("{warning}");
    }
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| project.root.join(".sluice"));
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let store = open_store(&args.store, &data_dir).await?;

    let s3_listener = tokio::net::TcpListener::bind(&args.s3_listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} for S3 (choose another with --s3-listen or SLUICE_S3_LISTEN)",
                args.s3_listen
            )
        })?;
    let s3_endpoint = format!("http://{}", s3_listener.local_addr()?);
    let issuer = super::buckets::credential_issuer(&data_dir)?;
    let options = PlanOptions {
        lease_timeout: args.lease_timeout,
        s3_endpoint: Some(s3_endpoint.clone()),
        issuer: Some(issuer.clone()),
    };
    let plan = plan::from_project(&project, &options, |name| std::env::var(name).ok())
        .with_context(|| format!("cannot start project {}", project.file.display()))?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (choose another with --listen or SLUICE_LISTEN)",
                args.listen
            )
        })?;
    let api = format!("http://{}", listener.local_addr()?);
    let engine = Engine::start(
        store.clone(),
        plan,
        EngineOptions {
            schedule_grace: args.schedule_grace,
            api_url: Some(api.clone()),
            ..EngineOptions::default()
        },
    )
    .await?;
    open_tables(&project, &args.store, &data_dir, &engine).await?;
    let api_file = data_dir.join("api.json");
    let record = serde_json::json!({ "api": api, "pid": std::process::id() });
    std::fs::write(&api_file, record.to_string())
        .with_context(|| format!("writing {}", api_file.display()))?;

    let auth = auth_mode(args.auth, listener.local_addr()?);
    let admin_token_file = match auth {
        AuthMode::Required => Some(keep_admin_token(&engine, &data_dir).await?),
        AuthMode::Off => None,
    };

    super::buckets::serve(&project, &data_dir, s3_listener, &engine, issuer).await?;
    print_banner(&project, &engine, &api, &s3_endpoint, store.as_ref());
    match &admin_token_file {
        Some(file) => println!(
            "  auth       API tokens required (admin token in {})",
            file.display()
        ),
        None => println!("  auth       off (--auth required to demand API tokens)"),
    }
    engine
        .register_schedules()
        .await
        .context("cannot register the schedules in the state store")?;
    println!("ready: {api}");
    let _dispatchers = engine.run_dispatchers();
    let _scheduler = engine.run_scheduler();
    let _event_recovery = engine.run_event_recovery();
    let router = sluice_server::router(engine, sluice_server::ApiOptions { auth });
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    let _ = std::fs::remove_file(&api_file);
    served.context("the API server stopped")?;
    tracing::info!("stopped; unfinished work resumes at the next start");
    Ok(ExitCode::SUCCESS)
}

fn print_banner(
    project: &sluice_spec::Project,
    engine: &Engine,
    api: &str,
    s3: &str,
    store: &dyn Store,
) {
    let plan = engine.plan();
    let names = |v: Vec<&String>| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.into_iter().cloned().collect::<Vec<_>>().join(", ")
        }
    };
    let declared_queues: Vec<&String> = plan
        .queues
        .iter()
        .map(|q| &q.def.name)
        .filter(|n| !n.contains('.'))
        .collect();
    println!(
        "Sluice {} serving {}",
        env!("CARGO_PKG_VERSION"),
        project.file.display()
    );
    println!("  api        {api}");
    println!(
        "  s3         {s3}   (buckets: {})",
        names(project.buckets.keys().collect())
    );
    println!("  state      {}", store.describe());
    println!("  functions  {}", names(plan.functions.keys().collect()));
    println!("  pipelines  {}", names(plan.pipelines.keys().collect()));
    println!("  queues     {}", names(declared_queues));
    if let Some(f) = plan.functions.keys().next() {
        println!(
            "Try: sluice --api {api} invoke {f} --event -   (then type a JSON event and Ctrl-D)"
        );
    }
}

/// `--auth auto` requires tokens unless the API is reachable from this machine only.
fn auth_mode(arg: AuthArg, listening: std::net::SocketAddr) -> AuthMode {
    match arg {
        AuthArg::Required => AuthMode::Required,
        AuthArg::Off => AuthMode::Off,
        AuthArg::Auto if listening.ip().is_loopback() => AuthMode::Off,
        AuthArg::Auto => AuthMode::Required,
    }
}

/// Keeps a working admin token in `DATA_DIR/admin-token` (mode 0600) for the
/// local CLI: the one there if it is still a live admin token, else a new one.
async fn keep_admin_token(engine: &Engine, data_dir: &Path) -> Result<PathBuf> {
    let path = data_dir.join("admin-token");
    let current = std::fs::read_to_string(&path).ok();
    if let Some(token) = engine.ensure_admin_token(current.as_deref()).await? {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        std::io::Write::write_all(&mut file, format!("{token}\n").as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        tracing::info!(file = %path.display(), "new admin token written");
    }
    Ok(path)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return ctrl_c.await.unwrap_or(()),
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}

/// The state store named by `--store`: SQLite in the data directory, or
/// PostgreSQL by URL (with an optional `schema` query parameter).
async fn open_store(spec: &str, data_dir: &std::path::Path) -> Result<Arc<dyn Store>> {
    if spec == "sqlite" {
        return Ok(Arc::new(SqliteStore::open(
            &data_dir.join("state.db"),
            system_clock(),
        )?));
    }
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        let (url, schema) = split_schema(spec);
        let store =
            sluice_store::postgres::PostgresStore::connect(&url, schema.as_deref(), system_clock())
                .await?;
        return Ok(Arc::new(store));
    }
    anyhow::bail!("unknown state store `{spec}`: use `sqlite` or a postgres:// URL")
}

/// Opens the project's tables (creating or checking each) and gives them to
/// the engine. Tables without a connection live beside the state store: in
/// `DATA_DIR/tables.db`, or in the store's PostgreSQL database under the
/// schema `<store schema>_tables` (`sluice_tables` without one).
async fn open_tables(
    project: &sluice_spec::Project,
    store: &str,
    data_dir: &std::path::Path,
    engine: &Engine,
) -> Result<()> {
    if project.tables.is_empty() {
        return Ok(());
    }
    let embedded = if store == "sqlite" {
        sluice_tables::Embedded::Sqlite(data_dir.join("tables.db"))
    } else {
        let (url, schema) = split_schema(store);
        let schema = format!("{}_tables", schema.as_deref().unwrap_or("sluice"));
        sluice_tables::Embedded::Postgres { url, schema }
    };
    let env = |name: &str| std::env::var(name).ok();
    let (tables, ensured) = sluice_tables::Tables::open(project, &project.root, &embedded, &env)
        .await
        .context("cannot open the project's tables")?;
    for (name, outcome) in ensured {
        let database = tables
            .get(&name)
            .map(|t| t.backend.describe())
            .unwrap_or_default();
        match outcome {
            sluice_tables::Ensured::Created => {
                tracing::info!(table = %name, %database, "table created")
            }
            sluice_tables::Ensured::Existing { added } if !added.is_empty() => {
                tracing::info!(table = %name, %database, ?added, "table existed; optional columns added")
            }
            sluice_tables::Ensured::Existing { .. } => {
                tracing::info!(table = %name, %database, "table checked")
            }
        }
    }
    engine.attach_tables(tables);
    Ok(())
}

/// Removes `schema=NAME` from a URL's query, returning the URL and the name.
fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("schema=") {
            Some(name) => {
                schema = Some(name.to_string());
                false
            }
            None => true,
        })
        .collect();
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, schema)
}

/// Raises the soft limit of open files to the hard one: the default soft
/// limit (often 1,024) would refuse the 1,025th live-feed subscriber or S3
/// client, while the hard limit (often 524,288) is this process's to use.
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 || limit.rlim_cur >= limit.rlim_max
        {
            return;
        }
        let soft = limit.rlim_cur;
        limit.rlim_cur = limit.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
            tracing::debug!(
                from = soft,
                to = limit.rlim_max,
                "raised the open files limit"
            );
        }
    }
}
