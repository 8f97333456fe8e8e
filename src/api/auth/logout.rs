//! `POST /api/auth/logout`.

use axum::extract::State;
use axum::http::StatusCode;

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;

/// Revokes the caller's session; its token stops working at once.
#[utoipa::path(post, path = "/api/auth/logout", operation_id = "logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Logged out"), (status = 401, body = crate::error::ErrorBody)))]
pub async fn logout(State(state): State<AppState>, me: CurrentUser) -> AppResult<StatusCode> {
    crate::auth::login::logout(&state, &me).await?;
    Ok(StatusCode::NO_CONTENT)
}
