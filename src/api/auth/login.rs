//! `POST /api/auth/login`.

use axum::extract::State;

use crate::api::extract::{ClientInfo, Json};
use crate::app::AppState;
use crate::auth::login::{self, Credentials, LoginResponse};
use crate::error::AppResult;

/// Exchanges email and password for a bearer token.
#[utoipa::path(post, path = "/api/auth/login", operation_id = "login", tag = "auth", request_body = Credentials,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "`invalid_credentials`, alike for unknown email and wrong password", body = crate::error::ErrorBody),
        (status = 429, description = "Too many attempts from this IP or for this email", body = crate::error::ErrorBody),
        (status = 503, description = "Password hashing saturated; retry", body = crate::error::ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(input): Json<Credentials>,
) -> AppResult<Json<LoginResponse>> {
    login::login(&state, input, &client).await.map(Json)
}
