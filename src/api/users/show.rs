//! `GET /api/users/{id}`.

use axum::extract::{Path, State};

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;
use crate::users::{self, UserView};

/// One user: admins and supervisors see anyone in their account, agents themselves.
#[utoipa::path(get, path = "/api/users/{id}", operation_id = "getUser", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<UserView>> {
    users::find_visible(&state, &me, id)
        .await
        .map(|u| Json(u.into()))
}
