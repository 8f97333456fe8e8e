//! `/api/auth/signup` and `POST /api/auth/signup/confirm`: self-service accounts.

use axum::extract::State;
use axum::http::StatusCode;

use crate::accounts::signup::{self, ConfirmSignUp, SignUp, SignUpAccepted, SignUpOpen};
use crate::accounts::AccountView;
use crate::api::extract::{ClientInfo, Json};
use crate::app::AppState;
use crate::error::AppResult;

/// Whether this installation lets businesses sign themselves up (`SIGNUP=open`).
#[utoipa::path(get, path = "/api/auth/signup", operation_id = "signUpOpen", tag = "auth",
    responses((status = 200, body = SignUpOpen)))]
pub async fn open(State(state): State<AppState>) -> Json<SignUpOpen> {
    Json(SignUpOpen {
        open: state.config.signup_open,
    })
}

/// Starts a sign-up (`SIGNUP=open`): mails a confirmation link. The same answer whether or not
/// the address already has an account.
#[utoipa::path(post, path = "/api/auth/signup", operation_id = "signUp", tag = "auth", request_body = SignUp,
    responses((status = 202, body = SignUpAccepted),
              (status = 403, description = "`signup_closed`", body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)))]
pub async fn sign_up(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(input): Json<SignUp>,
) -> AppResult<(StatusCode, Json<SignUpAccepted>)> {
    let accepted = signup::request(&state, input, &client).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// Confirms a sign-up with the mailed token and opens the account; its admin then signs in.
#[utoipa::path(post, path = "/api/auth/signup/confirm", operation_id = "confirmSignUp", tag = "auth", request_body = ConfirmSignUp,
    responses((status = 200, body = AccountView),
              (status = 400, description = "`invalid_or_expired_token`", body = crate::error::ErrorBody)))]
pub async fn confirm(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(input): Json<ConfirmSignUp>,
) -> AppResult<Json<AccountView>> {
    signup::confirm(&state, input, &client).await.map(Json)
}
