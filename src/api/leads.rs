//! `/api/leads`: the leads the caller may see, where the team stands with each, CSV export,
//! imports, the leads needing action and follow-up drafts.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;

use crate::ai::assist::{self, Suggestion};
use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;
use crate::leads::import::{self, ImportList, ImportOptions, ImportQuery, ImportStatus};
use crate::leads::{
    self, ExportQuery, LeadChange, LeadList, LeadPage, LeadQuery, NeedsActionQuery,
};
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

/// The same leads as CSV, at most 10,000, with the columns an import reads (extra fields
/// last), so the file imports back into the same leads; formulas are defused, phone numbers
/// are not.
#[utoipa::path(get, path = "/api/leads/export", operation_id = "exportLeads", tag = "leads", security(("bearer" = [])),
    params(ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export(
    State(state): State<AppState>,
    me: CurrentUser,
    query: QueryOf<ExportQuery>,
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

/// Imports leads from a CSV file (`text/csv`: a header row; columns name, email, phone,
/// company, channel, status, source_status, notes, last_contact, intent, summary, others kept
/// as extra fields: the columns of the export) or JSON (`{"csv": "...", "status_map": {...}}`
/// or an array of objects). A status that is not one of the hub's is kept as the lead's
/// `source_status` and becomes what `status_map` says, else `new`. A row with the email or
/// phone of a lead is merged into it (notes appended, first values kept; the report says what
/// changed); a lead is linked to the customer who chatted with its email or phone. Rows are
/// stored, then analysed, in the background (the analysis is skipped without an AI provider);
/// bad rows are reported with their line and reason (supervisors, admins).
#[utoipa::path(post, path = "/api/leads/import", operation_id = "importLeads", tag = "leads", security(("bearer" = [])),
    params(ImportOptions),
    request_body(content(
        (String = "text/csv"),
        (serde_json::Value = "application/json"))),
    responses((status = 202, body = ImportStatus), (status = 403, body = crate::error::ErrorBody),
              (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
    options: QueryOf<ImportOptions>,
    body: Body,
) -> AppResult<(StatusCode, Json<ImportStatus>)> {
    let Query(options) = options?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let started = import::receive(&state, &me, content_type, options, body).await?;
    Ok((StatusCode::ACCEPTED, Json(started)))
}

/// The account's latest imports, newest first, each with where it stands (supervisors,
/// admins).
#[utoipa::path(get, path = "/api/leads/imports", operation_id = "listLeadImports", tag = "leads", security(("bearer" = [])),
    params(ImportQuery),
    responses((status = 200, body = ImportList), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn imports(
    State(state): State<AppState>,
    me: CurrentUser,
    query: QueryOf<ImportQuery>,
) -> AppResult<Json<ImportList>> {
    let Query(query) = query?;
    import::list(&state, &me, query).await.map(Json)
}

/// Where an import stands: rows stored, updated and rejected (each with line and reason), leads
/// analysed and needing action (supervisors, admins).
#[utoipa::path(get, path = "/api/leads/imports/{id}", operation_id = "getLeadImport", tag = "leads", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Import id")),
    responses((status = 200, body = ImportStatus), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn import_status(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ImportStatus>> {
    import::status(&state, &me, id).await.map(Json)
}

/// Leads the analysis says need action, soonest first.
#[utoipa::path(get, path = "/api/leads/needs-action", operation_id = "leadsNeedingAction", tag = "leads", security(("bearer" = [])),
    params(NeedsActionQuery),
    responses((status = 200, body = LeadList), (status = 422, body = crate::error::ErrorBody)))]
pub async fn needs_action(
    State(state): State<AppState>,
    me: CurrentUser,
    query: QueryOf<NeedsActionQuery>,
) -> AppResult<Json<LeadList>> {
    let Query(query) = query?;
    leads::needing_action(&state, &me, query).await.map(Json)
}

/// Drafts a follow-up message for a lead from its data and history, for a person to edit and
/// send; nothing is sent.
#[utoipa::path(post, path = "/api/leads/{id}/follow-up", operation_id = "draftLeadFollowUp", tag = "leads", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Lead id")),
    responses((status = 200, body = Suggestion), (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "`ai_paused`: the account paused its AI", body = crate::error::ErrorBody),
              (status = 429, description = "`ai_budget_exhausted`: the AI budget is used up (`Retry-After`, `resets_at` in the message)", body = crate::error::ErrorBody),
              (status = 503, body = crate::error::ErrorBody)))]
pub async fn follow_up(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Suggestion>> {
    assist::follow_up(&state, &me, id).await.map(Json)
}
