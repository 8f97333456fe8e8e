//! `PATCH /api/users/{id}`.

use axum::extract::{Path, State};

use crate::api::extract::{ClientInfo, Json};
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;
use crate::users::{self, UpdateUser, UserView};

/// Changes a user (admins); the last active admin cannot be demoted or deactivated.
#[utoipa::path(patch, path = "/api/users/{id}", operation_id = "updateUser", tag = "users", security(("bearer" = [])), request_body = UpdateUser,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "`last_admin` or `email_taken`", body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    client: ClientInfo,
    Path(id): Path<i64>,
    Json(input): Json<UpdateUser>,
) -> AppResult<Json<UserView>> {
    users::update(&state, &me, id, input, &client)
        .await
        .map(Json)
}
