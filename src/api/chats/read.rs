//! `POST /api/chats/{id}/read`.

use axum::body::Bytes;
use axum::extract::{Path, State};

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::chats::{self, ChatView, ReadUpTo};
use crate::error::AppResult;

/// Marks the chat read for the caller, up to `message_id` or the newest message.
#[utoipa::path(post, path = "/api/chats/{id}/read", operation_id = "markChatRead", tag = "chats", security(("bearer" = [])), request_body = ReadUpTo,
    params(("id" = i64, Path, description = "Chat id")),
    responses((status = 200, body = ChatView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> AppResult<Json<ChatView>> {
    // The body is optional: an empty POST reads everything.
    let input: ReadUpTo = crate::api::extract::optional_fields(&body)?;
    chats::mark_read(&state, &me, id, input).await.map(Json)
}
