//! `/api/ai/settings`, `/api/channels/{id}/ai-settings` and `/api/usage`: a business's own AI
//! provider, key, model, pause and budgets, and what its calls used.

use axum::extract::{Path, Query, State};

use crate::ai::settings::{self, AiSettingsView, PutAiSettings, PutChannelAiSettings};
use crate::ai::usage::{self, UsageQuery, UsageReport};
use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;

type QueryOf<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// The account's own AI settings (admins); null fields inherit the installation's `AI_*`. The
/// key is never returned, only its last four characters.
#[utoipa::path(get, path = "/api/ai/settings", operation_id = "showAiSettings", tag = "ai", security(("bearer" = [])),
    responses((status = 200, body = AiSettingsView), (status = 403, body = crate::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    me: CurrentUser,
) -> AppResult<Json<AiSettingsView>> {
    settings::show_account(&state, &me).await.map(Json)
}

/// Replaces the account's own AI settings (admins). The key stays unless `api_key` or
/// `clear_api_key` is given; storing a key needs the installation's `SECRETS_KEY`.
#[utoipa::path(put, path = "/api/ai/settings", operation_id = "putAiSettings", tag = "ai", security(("bearer" = [])), request_body = PutAiSettings,
    responses((status = 200, body = AiSettingsView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, description = "invalid fields, or `secrets_key_missing`: the installation cannot store keys", body = crate::error::ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(input): Json<PutAiSettings>,
) -> AppResult<Json<AiSettingsView>> {
    settings::put_account(&state, &me, input).await.map(Json)
}

/// A channel's AI overrides (admins): provider, key, pause and budgets; null fields inherit
/// the account's.
#[utoipa::path(get, path = "/api/channels/{id}/ai-settings", operation_id = "showChannelAiSettings", tag = "ai", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = AiSettingsView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn show_channel(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<AiSettingsView>> {
    settings::show_channel(&state, &me, id).await.map(Json)
}

/// Replaces a channel's AI overrides (admins). Its model, temperature and prompt are the
/// channel's own fields (`PATCH /api/channels/{id}`).
#[utoipa::path(put, path = "/api/channels/{id}/ai-settings", operation_id = "putChannelAiSettings", tag = "ai", security(("bearer" = [])), request_body = PutChannelAiSettings,
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = AiSettingsView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody),
              (status = 422, description = "invalid fields, or `secrets_key_missing`", body = crate::error::ErrorBody)))]
pub async fn put_channel(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<PutChannelAiSettings>,
) -> AppResult<Json<AiSettingsView>> {
    settings::put_channel(&state, &me, id, input)
        .await
        .map(Json)
}

/// What the account's AI calls used (admins): totals over a period of days (UTC), grouped by
/// day, channel, model or feature, and the budget left this calendar month.
#[utoipa::path(get, path = "/api/usage", operation_id = "aiUsage", tag = "ai", security(("bearer" = [])),
    params(UsageQuery),
    responses((status = 200, body = UsageReport), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn usage(
    State(state): State<AppState>,
    me: CurrentUser,
    query: QueryOf<UsageQuery>,
) -> AppResult<Json<UsageReport>> {
    let Query(query) = query?;
    usage::report(&state, &me, query).await.map(Json)
}
