//! `POST /api/chats/{id}/suggest`.

use axum::extract::{Path, State};

use crate::ai::assist::{self, Suggestion};
use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;

/// A suggested next reply, drafted by the AI provider from the chat's history and its channel's
/// prompt, for the caller to edit and send; nothing is sent or stored.
#[utoipa::path(post, path = "/api/chats/{id}/suggest", operation_id = "suggestReply", tag = "chats", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Chat id")),
    responses((status = 200, body = Suggestion), (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "`ai_paused`: the account paused its AI", body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody),
              (status = 429, description = "`ai_budget_exhausted`: the AI budget is used up (`Retry-After`, `resets_at` in the message)", body = crate::error::ErrorBody),
              (status = 503, body = crate::error::ErrorBody)))]
pub async fn suggest(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Suggestion>> {
    assist::suggest(&state, &me, id).await.map(Json)
}
