//! `POST /api/auth/password-reset`.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::api::extract::{ClientInfo, Json};
use crate::app::AppState;
use crate::auth::reset::{self, ResetRequest};
use crate::error::AppResult;

/// Mails a reset link if the email belongs to a user; answers 202 either way.
#[utoipa::path(post, path = "/api/auth/password-reset", operation_id = "requestPasswordReset", tag = "auth", request_body = ResetRequest,
    responses((status = 202, description = "Accepted, whether or not the email exists"),
              (status = 429, body = crate::error::ErrorBody)))]
pub async fn request_reset(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(input): Json<ResetRequest>,
) -> AppResult<(StatusCode, Json<Value>)> {
    reset::request(&state, input, &client).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"message": "if this email belongs to an account, a reset link is on its way"})),
    ))
}
