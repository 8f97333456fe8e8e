//! `/api/api-keys`: integration keys; admins create, list and revoke them.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::api::extract::{ClientInfo, Json};
use crate::api_keys::{self, KeyCreated, KeyView, NewKey};
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;

/// The account's API keys, newest first, with their last use; never their secrets.
#[utoipa::path(get, path = "/api/api-keys", operation_id = "listApiKeys", tag = "api keys", security(("bearer" = [])),
    responses((status = 200, body = Vec<KeyView>), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, me: CurrentUser) -> AppResult<Json<Vec<KeyView>>> {
    api_keys::list(&state, &me).await.map(Json)
}

/// Creates an API key; its `secret` is in this answer only.
#[utoipa::path(post, path = "/api/api-keys", operation_id = "createApiKey", tag = "api keys", security(("bearer" = [])), request_body = NewKey,
    responses((status = 201, body = KeyCreated), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    client: ClientInfo,
    Json(input): Json<NewKey>,
) -> AppResult<(StatusCode, Json<KeyCreated>)> {
    let created = api_keys::create(&state, &me, input, &client.ip).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes an API key: refused from now on, everywhere.
#[utoipa::path(delete, path = "/api/api-keys/{id}", operation_id = "revokeApiKey", tag = "api keys", security(("bearer" = [])),
    params(("id" = i64, Path, description = "API key id")),
    responses((status = 204), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    me: CurrentUser,
    client: ClientInfo,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    api_keys::revoke(&state, &me, id, &client.ip).await?;
    Ok(StatusCode::NO_CONTENT)
}
