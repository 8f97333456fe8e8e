//! `POST /api/channels`.

use axum::extract::State;
use axum::http::StatusCode;

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::channels::{self, ChannelView, CreateChannel};
use crate::error::AppResult;

/// Adds a channel; widget channels get a public `widget_key`. A page access token is checked
/// with Meta first (`token_check` in the answer).
#[utoipa::path(post, path = "/api/channels", operation_id = "createChannel", tag = "channels", security(("bearer" = [])), request_body = CreateChannel,
    responses((status = 201, body = ChannelView), (status = 403, body = crate::error::ErrorBody),
              (status = 409, description = "`channel_exists`", body = crate::error::ErrorBody),
              (status = 422, description = "invalid fields, or `invalid_page_token`: Meta refused the token (nothing is stored)", body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(input): Json<CreateChannel>,
) -> AppResult<(StatusCode, Json<ChannelView>)> {
    let channel = channels::create(&state, &me, input).await?;
    Ok((StatusCode::CREATED, Json(channel)))
}
