//! `GET /metrics`, Prometheus text exposition open only to holders of `METRICS_TOKEN`, and
//! the middleware that counts every request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::error::{AppError, AppResult};

/// Renders the process's metrics for a Prometheus scraper that sends
/// `Authorization: Bearer $METRICS_TOKEN`; without that setting the route does not exist (404).
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> AppResult<impl IntoResponse> {
    let Some(token) = &state.config.metrics_token else {
        return Err(AppError::not_found("no such route"));
    };
    let given = crate::auth::extract::bearer_from_headers(&headers).unwrap_or_default();
    if !crate::tokens::constant_time_eq(given.as_bytes(), token.expose().as_bytes()) {
        return Err(AppError::unauthorized(
            "invalid_metrics_token",
            "send Authorization: Bearer <METRICS_TOKEN>",
        ));
    }
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

/// Middleware: records each request under its route pattern (never the raw path, to bound labels).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(request).await;
    state.metrics.observe_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
