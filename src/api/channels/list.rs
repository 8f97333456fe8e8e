//! `GET /api/channels`.

use axum::extract::State;

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::channels::{self, ChannelView};
use crate::error::AppResult;

/// The account's channels; access tokens are never returned.
#[utoipa::path(get, path = "/api/channels", operation_id = "listChannels", tag = "channels", security(("bearer" = [])),
    responses((status = 200, body = Vec<ChannelView>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
) -> AppResult<Json<Vec<ChannelView>>> {
    channels::list(&state, &me).await.map(Json)
}
