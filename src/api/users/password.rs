//! `POST /api/users/me/password`.

use axum::extract::State;
use axum::http::StatusCode;

use crate::api::extract::{ClientInfo, Json};
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;
use crate::users::{self, PasswordChange};

/// Changes the caller's own password; their other sessions end, this one stays.
#[utoipa::path(post, path = "/api/users/me/password", operation_id = "changeOwnPassword", tag = "users", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204, description = "Changed; every other session of the user has ended"),
              (status = 401, body = crate::error::ErrorBody),
              (status = 403, description = "`invalid_current_password`", body = crate::error::ErrorBody),
              (status = 422, description = "`invalid_password`: 10 to 256 characters", body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    me: CurrentUser,
    client: ClientInfo,
    Json(input): Json<PasswordChange>,
) -> AppResult<StatusCode> {
    users::change_own_password(&state, &me, input, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
