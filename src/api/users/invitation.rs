//! `POST /api/users/{id}/invitation`.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::api::extract::ClientInfo;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;
use crate::users;

/// Mails an invited user a fresh link to set their first password; the earlier links stop
/// working (admins). A user who has a password already is a 409 `invitation_accepted`.
#[utoipa::path(post, path = "/api/users/{id}/invitation", operation_id = "resendInvitation", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 202, description = "A new invitation is on its way"), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "`invitation_accepted` or `user_inactive`", body = crate::error::ErrorBody)))]
pub async fn resend(
    State(state): State<AppState>,
    me: CurrentUser,
    client: ClientInfo,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    users::resend_invitation(&state, &me, id, &client).await?;
    Ok(StatusCode::ACCEPTED)
}
