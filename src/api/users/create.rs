//! `POST /api/users`.

use axum::extract::State;
use axum::http::StatusCode;

use crate::api::extract::{ClientInfo, Json};
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;
use crate::users::{self, CreateUser, UserView};

/// Creates a user (admins); without a password, the user is mailed a link to set one.
#[utoipa::path(post, path = "/api/users", operation_id = "createUser", tag = "users", security(("bearer" = [])), request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 403, body = crate::error::ErrorBody),
              (status = 409, description = "`email_taken`", body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    client: ClientInfo,
    Json(input): Json<CreateUser>,
) -> AppResult<(StatusCode, Json<UserView>)> {
    let user = users::create(&state, &me, input, &client).await?;
    Ok((StatusCode::CREATED, Json(user)))
}
