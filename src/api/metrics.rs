//! `GET /metrics`: Prometheus text exposition.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::app::AppState;
use crate::error::{AppError, AppResult};

/// Renders the process's metrics for a Prometheus scraper.
pub async fn metrics(State(state): State<AppState>) -> AppResult<impl IntoResponse> {
    let body = state
        .metrics
        .render(state.db().pool_state())
        .map_err(AppError::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    ))
}
