//! `/api/platform/accounts`: the installation's operator manages its businesses with
//! `PLATFORM_TOKEN` (the same as `switchboard account ...` on the command line).

use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::accounts::{self, AccountView, CreateAccount, CreatedAccount, Erased, OperatorChange};
use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::operator::Operator;
use crate::error::AppResult;
use crate::store::password_tokens::Purpose;

/// Every account on the installation, oldest first.
#[utoipa::path(get, path = "/api/platform/accounts", operation_id = "listAccounts", tag = "platform", security(("platform" = [])),
    responses((status = 200, body = Vec<AccountView>), (status = 401, body = crate::error::ErrorBody),
              (status = 404, description = "No `PLATFORM_TOKEN` is configured", body = crate::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, _: Operator) -> AppResult<Json<Vec<AccountView>>> {
    accounts::list(state.db()).await.map(Json)
}

/// Creates an account and its first admin, who is mailed an invitation.
#[utoipa::path(post, path = "/api/platform/accounts", operation_id = "createAccount", tag = "platform", security(("platform" = [])), request_body = CreateAccount,
    responses((status = 201, body = CreatedAccount), (status = 401, body = crate::error::ErrorBody),
              (status = 404, description = "No `PLATFORM_TOKEN` is configured", body = crate::error::ErrorBody),
              (status = 409, description = "`email_taken`", body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _: Operator,
    Json(input): Json<CreateAccount>,
) -> AppResult<(StatusCode, Json<CreatedAccount>)> {
    let (account, admin) = accounts::create(state.db(), input).await?;
    crate::auth::reset::send_link(&state, &admin, Purpose::Invite).await?;
    tracing::info!(account_id = account.id, "created an account");
    Ok((
        StatusCode::CREATED,
        Json(CreatedAccount {
            account,
            admin: admin.into(),
        }),
    ))
}

/// One account.
#[utoipa::path(get, path = "/api/platform/accounts/{id}", operation_id = "showAccount", tag = "platform", security(("platform" = [])),
    params(("id" = i64, Path, description = "Account id")),
    responses((status = 200, body = AccountView), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    _: Operator,
    Path(id): Path<i64>,
) -> AppResult<Json<AccountView>> {
    accounts::get(state.db(), id).await.map(Json)
}

/// Renames an account, or suspends (`status: suspended`) or resumes (`status: active`) it.
#[utoipa::path(patch, path = "/api/platform/accounts/{id}", operation_id = "changeAccount", tag = "platform", security(("platform" = [])), request_body = OperatorChange,
    params(("id" = i64, Path, description = "Account id")),
    responses((status = 200, body = AccountView), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn change(
    State(state): State<AppState>,
    _: Operator,
    Path(id): Path<i64>,
    Json(input): Json<OperatorChange>,
) -> AppResult<Json<AccountView>> {
    accounts::change(&state, id, input).await.map(Json)
}

/// Erases an account and everything in it; answers what was removed, per table.
#[utoipa::path(delete, path = "/api/platform/accounts/{id}", operation_id = "deleteAccount", tag = "platform", security(("platform" = [])),
    params(("id" = i64, Path, description = "Account id")),
    responses((status = 200, body = Erased), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    _: Operator,
    Path(id): Path<i64>,
) -> AppResult<Json<Erased>> {
    accounts::erase(state.db(), &state.media.store, id)
        .await
        .map(Json)
}

/// Suspends an account: its people are signed out and cannot sign in (403
/// `account_suspended`), nothing is sent and the AI is off; inbound messages are still stored.
#[utoipa::path(post, path = "/api/platform/accounts/{id}/suspend", operation_id = "suspendAccount", tag = "platform", security(("platform" = [])),
    params(("id" = i64, Path, description = "Account id")),
    responses((status = 200, body = AccountView), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn suspend(
    State(state): State<AppState>,
    _: Operator,
    Path(id): Path<i64>,
) -> AppResult<Json<AccountView>> {
    accounts::suspend_live(&state, id).await.map(Json)
}

/// Resumes a suspended account.
#[utoipa::path(post, path = "/api/platform/accounts/{id}/resume", operation_id = "resumeAccount", tag = "platform", security(("platform" = [])),
    params(("id" = i64, Path, description = "Account id")),
    responses((status = 200, body = AccountView), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    _: Operator,
    Path(id): Path<i64>,
) -> AppResult<Json<AccountView>> {
    accounts::resume(state.db(), id).await.map(Json)
}
