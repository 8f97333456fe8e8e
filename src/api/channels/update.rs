//! `PATCH /api/channels/{id}`.

use axum::extract::{Path, State};

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::channels::{self, ChannelView, UpdateChannel};
use crate::error::AppResult;

/// Changes a channel.
#[utoipa::path(patch, path = "/api/channels/{id}", operation_id = "updateChannel", tag = "channels", security(("bearer" = [])), request_body = UpdateChannel,
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = ChannelView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<UpdateChannel>,
) -> AppResult<Json<ChannelView>> {
    channels::update(&state, &me, id, input).await.map(Json)
}
