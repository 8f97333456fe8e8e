//! `POST /api/chats/{id}/handoff`.

use axum::extract::{Path, State};

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::chats::{self, ChatView, Handoff};
use crate::error::{AppError, AppResult};

/// Takes the chat from the AI assistant (`{"to":"human"}`, the default: an agent takes it for
/// themselves, a supervisor or admin puts it in the queue), or gives it back (`{"to":"bot"}`).
#[utoipa::path(post, path = "/api/chats/{id}/handoff", operation_id = "handoffChat", tag = "chats", security(("bearer" = [])), request_body = Handoff,
    params(("id" = i64, Path, description = "Chat id")),
    responses((status = 200, body = ChatView), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody)))]
pub async fn handoff(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> AppResult<Json<ChatView>> {
    // The body is optional: an empty one takes the chat from the bot.
    let input = if body.iter().all(u8::is_ascii_whitespace) {
        Handoff::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            AppError::unprocessable(
                "invalid_fields",
                format!("expected {{\"to\": \"human\" | \"bot\"}}: {e}"),
            )
        })?
    };
    chats::handoff(&state, &me, id, input).await.map(Json)
}
