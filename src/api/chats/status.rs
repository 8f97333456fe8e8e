//! `POST /api/chats/{id}/status`.

use axum::extract::{Path, State};

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::chats::{self, ChatView, StatusChange};
use crate::error::AppResult;

/// Sets the chat's status: `open`, `pending` or `resolved`.
#[utoipa::path(post, path = "/api/chats/{id}/status", operation_id = "setChatStatus", tag = "chats", security(("bearer" = [])), request_body = StatusChange,
    params(("id" = i64, Path, description = "Chat id")),
    responses((status = 200, body = ChatView), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_status(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<StatusChange>,
) -> AppResult<Json<ChatView>> {
    chats::set_status(&state, &me, id, input).await.map(Json)
}
