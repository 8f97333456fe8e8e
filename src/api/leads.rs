//! `/api/leads`: the leads the caller may see, where the team stands with each, CSV export.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;
use crate::leads::{self, LeadChange, LeadPage, LeadQuery};
use crate::store::leads::LeadRow;

type QueryOf<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// The leads the caller may see (agents: of chats they may see), newest first.
#[utoipa::path(get, path = "/api/leads", operation_id = "listLeads", tag = "leads", security(("bearer" = [])),
    params(LeadQuery),
    responses((status = 200, body = LeadPage)))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    query: QueryOf<LeadQuery>,
) -> AppResult<Json<LeadPage>> {
    let Query(query) = query?;
    leads::list(&state, &me, query).await.map(Json)
}

/// The same leads as CSV, at most 10,000.
#[utoipa::path(get, path = "/api/leads/export", operation_id = "exportLeads", tag = "leads", security(("bearer" = [])),
    params(LeadQuery),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export(
    State(state): State<AppState>,
    me: CurrentUser,
    query: QueryOf<LeadQuery>,
) -> AppResult<impl IntoResponse> {
    let Query(query) = query?;
    let csv = leads::export(&state, &me, query).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"leads.csv\"",
            ),
        ],
        csv,
    ))
}

/// One lead the caller may see.
#[utoipa::path(get, path = "/api/leads/{id}", operation_id = "getLead", tag = "leads", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Lead id")),
    responses((status = 200, body = LeadRow), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<LeadRow>> {
    leads::show(&state, &me, id).await.map(Json)
}

/// Changes a lead's status or notes.
#[utoipa::path(patch, path = "/api/leads/{id}", operation_id = "updateLead", tag = "leads", security(("bearer" = [])), request_body = LeadChange,
    params(("id" = i64, Path, description = "Lead id")),
    responses((status = 200, body = LeadRow), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Json(change): Json<LeadChange>,
) -> AppResult<Json<LeadRow>> {
    leads::update(&state, &me, id, change).await.map(Json)
}
