//! `GET /api/chats/{id}`.

use axum::extract::{Path, State};

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::chats::{self, ChatView};
use crate::error::AppResult;

/// One chat the caller may see.
#[utoipa::path(get, path = "/api/chats/{id}", operation_id = "getChat", tag = "chats", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Chat id")),
    responses((status = 200, body = ChatView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ChatView>> {
    chats::show(&state, &me, id).await.map(Json)
}
