//! Runs: list, show (optionally waiting for the end), logs (optionally
//! following), rerun.

use crate::wait::{run_detail, wait_for_notice, wait_for_run, RunDetail, WaitQuery};
use crate::ApiError;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sluice_engine::Engine;
use sluice_store::{LogLine, RunFilter, RunRecord};
use tokio::time::Instant;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListQuery {
    status: Option<String>,
    target: Option<String>,
    before: Option<String>,
    limit: Option<usize>,
}

pub async fn list(
    State(engine): State<Engine>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<RunRecord>>, ApiError> {
    let status = q
        .status
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(ApiError::bad_request)?;
    let filter = RunFilter {
        status,
        target: q.target,
        before: q.before,
        limit: q.limit.unwrap_or(50).min(1000),
    };
    Ok(Json(engine.store().list_runs(&filter).await?))
}

pub async fn show(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(wait): Query<WaitQuery>,
) -> Result<Json<RunDetail>, ApiError> {
    Ok(Json(match wait.seconds() {
        Some(_) => wait_for_run(&engine, &id, &wait).await?,
        None => run_detail(&engine, &id).await?,
    }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct LogsQuery {
    #[serde(default)]
    after: i64,
    limit: Option<usize>,
    wait: Option<f64>,
}

/// Log lines after `after`. With `wait`, an empty answer is held until lines
/// arrive, the run finishes, or the wait runs out; `finished` tells a
/// follower when to stop.
pub async fn logs(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(q): Query<LogsQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(1000).min(10_000);
    let wait = WaitQuery { wait: q.wait };
    let deadline = Instant::now() + wait.seconds().unwrap_or_default();
    loop {
        let mut notices = engine.hub().subscribe();
        let run = engine.store().get_run(&id).await?;
        let lines: Vec<LogLine> = engine.store().read_logs(&id, q.after, limit).await?;
        let finished = run.status.is_terminal();
        if !lines.is_empty()
            || finished
            || !wait_for_notice(&mut notices, &id, deadline, true).await
        {
            let next = lines.last().map(|l| l.seq).unwrap_or(q.after);
            return Ok(Json(
                json!({ "lines": lines, "next_after": next, "run_status": run.status, "finished": finished }),
            ));
        }
    }
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct RerunBody {
    #[serde(default)]
    steps: Vec<String>,
}

pub async fn rerun(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    body: Option<Json<RerunBody>>,
) -> Result<Json<RunRecord>, ApiError> {
    let steps = body.map(|Json(b)| b.steps).unwrap_or_default();
    Ok(Json(engine.rerun(&id, &steps).await?))
}

/// Cancels a run that has not finished (409 if it has).
pub async fn cancel(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> Result<Json<RunRecord>, ApiError> {
    Ok(Json(engine.cancel(&id).await?))
}
