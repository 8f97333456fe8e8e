//! `POST /api/chats/{id}/assign`.

use axum::extract::{Path, State};

use crate::api::extract::{ClientInfo, Json};
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::chats::{self, Assignment, ChatView};
use crate::error::AppResult;

/// Gives the chat to a user, or (`user_id: null`) back to the queue: supervisors and admins.
/// An agent may take a chat from the queue for themselves (`user_id`: their own id); 409
/// `already_assigned` when someone took it first.
#[utoipa::path(post, path = "/api/chats/{id}/assign", operation_id = "assignChat", tag = "chats", security(("bearer" = [])), request_body = Assignment,
    params(("id" = i64, Path, description = "Chat id")),
    responses((status = 200, body = ChatView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    me: CurrentUser,
    client: ClientInfo,
    Path(id): Path<i64>,
    Json(input): Json<Assignment>,
) -> AppResult<Json<ChatView>> {
    chats::assign(&state, &me, id, input, &client.ip)
        .await
        .map(Json)
}
