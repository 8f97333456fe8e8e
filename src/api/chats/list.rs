//! `GET /api/chats`.

use axum::extract::{Query, State};

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::chats::{self, ChatPage, ChatQuery};
use crate::error::AppResult;

/// The chats the caller may see, newest activity first, with unread counts.
#[utoipa::path(get, path = "/api/chats", operation_id = "listChats", tag = "chats", security(("bearer" = [])), params(ChatQuery),
    responses((status = 200, body = ChatPage), (status = 401, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    query: Result<Query<ChatQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<ChatPage>> {
    let Query(query) = query?;
    chats::list(&state, &me, query).await.map(Json)
}
