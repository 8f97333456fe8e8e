//! `DELETE /api/channels/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::channels;
use crate::error::AppResult;

/// Deletes a channel with its chats and messages.
#[utoipa::path(delete, path = "/api/channels/{id}", operation_id = "deleteChannel", tag = "channels", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 204, description = "Deleted"), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    channels::delete(&state, &me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
