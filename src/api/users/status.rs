//! `PUT /api/users/me/status`.

use axum::extract::State;

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;
use crate::users::{self, StatusUpdate, UserView};

/// Sets the caller's own status, `online` or `away`.
#[utoipa::path(put, path = "/api/users/me/status", operation_id = "setOwnStatus", tag = "users", security(("bearer" = [])), request_body = StatusUpdate,
    responses((status = 200, body = UserView), (status = 401, body = crate::error::ErrorBody)))]
pub async fn set_status(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(input): Json<StatusUpdate>,
) -> AppResult<Json<UserView>> {
    users::set_status(&state, &me, input.status).await.map(Json)
}
