//! `GET /api/chats/{id}/messages`.

use axum::extract::{Path, Query, State};

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::chats::{self, MessageQuery};
use crate::error::AppResult;
use crate::store::messages::Message;

/// A page of the chat's messages, oldest first; older pages with `before`.
#[utoipa::path(get, path = "/api/chats/{id}/messages", operation_id = "listChatMessages", tag = "chats", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Chat id"), MessageQuery),
    responses((status = 200, body = Vec<Object>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    query: Result<Query<MessageQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<Message>>> {
    let Query(query) = query?;
    chats::messages(&state, &me, id, query).await.map(Json)
}
