//! `POST /api/auth/password-reset/confirm`.

use axum::extract::State;
use axum::http::StatusCode;

use crate::api::extract::{ClientInfo, Json};
use crate::app::AppState;
use crate::auth::reset::{self, ResetConfirm};
use crate::error::AppResult;

/// Sets a new password with the mailed token; every session of the user ends.
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", operation_id = "confirmPasswordReset", tag = "auth", request_body = ResetConfirm,
    responses((status = 204, description = "Password changed"),
              (status = 400, description = "`invalid_or_expired_token`", body = crate::error::ErrorBody),
              (status = 422, description = "`invalid_password`", body = crate::error::ErrorBody)))]
pub async fn confirm_reset(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(input): Json<ResetConfirm>,
) -> AppResult<StatusCode> {
    reset::confirm(&state, input, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
