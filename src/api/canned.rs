//! `/api/canned-responses`: an account's ready answers; admins keep them.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::canned::{self, CannedChange, CannedInput, CannedQuery};
use crate::error::AppResult;
use crate::store::canned::CannedResponse;

/// The account's canned responses, by shortcut.
#[utoipa::path(get, path = "/api/canned-responses", operation_id = "listCannedResponses", tag = "canned responses", security(("bearer" = [])),
    params(CannedQuery),
    responses((status = 200, body = Vec<CannedResponse>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    query: Result<Query<CannedQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<CannedResponse>>> {
    let Query(query) = query?;
    canned::list(&state, &me, query).await.map(Json)
}

/// Adds a canned response (admins).
#[utoipa::path(post, path = "/api/canned-responses", operation_id = "createCannedResponse", tag = "canned responses", security(("bearer" = [])), request_body = CannedInput,
    responses((status = 201, body = CannedResponse), (status = 403, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(input): Json<CannedInput>,
) -> AppResult<(StatusCode, Json<CannedResponse>)> {
    let created = canned::create(&state, &me, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Changes a canned response (admins).
#[utoipa::path(patch, path = "/api/canned-responses/{id}", operation_id = "updateCannedResponse", tag = "canned responses", security(("bearer" = [])), request_body = CannedChange,
    params(("id" = i64, Path, description = "Canned response id")),
    responses((status = 200, body = CannedResponse), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Json(change): Json<CannedChange>,
) -> AppResult<Json<CannedResponse>> {
    canned::update(&state, &me, id, change).await.map(Json)
}

/// Removes a canned response (admins).
#[utoipa::path(delete, path = "/api/canned-responses/{id}", operation_id = "deleteCannedResponse", tag = "canned responses", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Canned response id")),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    canned::remove(&state, &me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
