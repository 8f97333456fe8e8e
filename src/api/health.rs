//! `GET /api/health`: is this process able to serve, and is its database reachable.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use diesel::connection::SimpleConnection;
use serde::Serialize;

use crate::app::AppState;
use crate::error::ErrorDetail;
use crate::store::connection::DatabaseUrl;

/// How long the check waits for a database connection before calling it down.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// The health report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`; `degraded` when Redis is unreachable; `unavailable` when the database is down.
    pub status: &'static str,
    /// `ok` or `unreachable`.
    pub database: &'static str,
    /// With several processes (`REDIS_URL`): `ok` while this process hears the others through
    /// Redis, `degraded` while it does not (it still accepts and stores; events from the
    /// others follow from the database when Redis returns).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<&'static str>,
    /// `sqlite`, `postgres` or `mysql`.
    pub backend: &'static str,
    /// The hub's version.
    pub version: &'static str,
    /// Seconds since this process started.
    pub uptime_seconds: u64,
    /// Why the hub is unavailable, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// Reports the process and database state: 200 when healthy, 503 when the database is down.
#[utoipa::path(
    get,
    path = "/api/health",
    operation_id = "getHealth",
    tag = "system",
    responses(
        (status = 200, description = "Healthy", body = Health),
        (status = 503, description = "The database is unreachable", body = Health),
    )
)]
pub async fn health(State(state): State<AppState>) -> Response {
    let database_ok = database_reachable(&state).await;
    let redis_up = state.relay.as_ref().map(|relay| relay.link.is_up());
    let mut report = Health {
        status: if redis_up == Some(false) {
            "degraded"
        } else {
            "ok"
        },
        database: "ok",
        redis: redis_up.map(|up| if up { "ok" } else { "degraded" }),
        backend: state.db().url().backend(),
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started_at.elapsed().as_secs(),
        error: None,
    };
    if database_ok {
        return (StatusCode::OK, axum::Json(report)).into_response();
    }
    report.status = "unavailable";
    report.database = "unreachable";
    report.error = Some(ErrorDetail {
        code: "database_unavailable".to_string(),
        message: "the database is not reachable".to_string(),
    });
    (StatusCode::SERVICE_UNAVAILABLE, axum::Json(report)).into_response()
}

async fn database_reachable(state: &AppState) -> bool {
    // An open SQLite connection survives its file being deleted; the file must still be there.
    if let DatabaseUrl::Sqlite(path) = state.db().url() {
        if !path.exists() {
            tracing::warn!(path = %path.display(), "health: the SQLite database file is gone");
            return false;
        }
    }
    let result = state
        .db()
        .run_with_timeout(DB_TIMEOUT, |conn| conn.batch_execute("SELECT 1"))
        .await;
    if let Err(e) = &result {
        tracing::warn!(error = %e, "health: database check failed");
    }
    result.is_ok()
}
