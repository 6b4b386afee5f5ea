//! Schedules: list next fire times, fire one now.

use crate::ApiError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use sluice_engine::{Dispatched, Engine, ScheduleView};

pub async fn list(State(engine): State<Engine>) -> Result<Json<Vec<ScheduleView>>, ApiError> {
    Ok(Json(engine.schedules().await?))
}

pub async fn trigger(
    State(engine): State<Engine>,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<Dispatched>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(engine.trigger_schedule(&name).await?),
    ))
}
