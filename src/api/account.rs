//! `/api/account`: the caller's own business, its name, time zone and language.

use axum::extract::State;

use crate::accounts::{self, AccountSettings, AccountView};
use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;

/// The caller's account.
#[utoipa::path(get, path = "/api/account", operation_id = "showOwnAccount", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = AccountView)))]
pub async fn show(State(state): State<AppState>, me: CurrentUser) -> AppResult<Json<AccountView>> {
    accounts::mine(&state, &me).await.map(Json)
}

/// Changes the account's name, time zone or language (admins).
#[utoipa::path(patch, path = "/api/account", operation_id = "updateOwnAccount", tag = "account", security(("bearer" = [])), request_body = AccountSettings,
    responses((status = 200, body = AccountView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(input): Json<AccountSettings>,
) -> AppResult<Json<AccountView>> {
    accounts::update_mine(&state, &me, input).await.map(Json)
}
