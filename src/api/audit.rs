//! `GET /api/audit`.

use axum::extract::{Query, State};
use serde::Deserialize;

use crate::api::extract::Json;
use crate::app::AppState;
use crate::audit::AuditView;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::error::{AppError, AppResult};

/// Paging of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries with a smaller id (the last id of the previous page).
    pub before: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// The account's audit log, newest first, each entry with a sentence naming who did what (admins).
#[utoipa::path(get, path = "/api/audit", operation_id = "listAuditEntries", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Vec<AuditView>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<AuditView>>> {
    me.principal.authorize(Action::ReadAudit)?;
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::unprocessable(
            "invalid_limit",
            "limit must be 1 to 200",
        ));
    }
    let account = me.principal.account_id;
    let entries = state
        .db()
        .run(move |conn| crate::audit::list(conn, account, query.before, limit))
        .await?;
    Ok(Json(entries))
}
