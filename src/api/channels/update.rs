//! `PATCH /api/channels/{id}`.

use axum::extract::{Path, State};

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::channels::{self, ChannelView, UpdateChannel};
use crate::error::AppResult;

/// Changes a channel; its widget key stays. A new page access token is checked with Meta
/// first (`token_check` in the answer).
#[utoipa::path(patch, path = "/api/channels/{id}", operation_id = "updateChannel", tag = "channels", security(("bearer" = [])), request_body = UpdateChannel,
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = ChannelView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody),
              (status = 422, description = "invalid fields, or `invalid_page_token`: Meta refused the token (nothing is changed)", body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<UpdateChannel>,
) -> AppResult<Json<ChannelView>> {
    channels::update(&state, &me, id, input).await.map(Json)
}
