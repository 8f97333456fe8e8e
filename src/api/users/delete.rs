//! `DELETE /api/users/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::api::extract::ClientInfo;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;
use crate::users;

/// Deletes a user (admins); never the last active admin.
#[utoipa::path(delete, path = "/api/users/{id}", operation_id = "deleteUser", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 204, description = "Deleted"), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "`last_admin`", body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    me: CurrentUser,
    client: ClientInfo,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    users::delete(&state, &me, id, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
