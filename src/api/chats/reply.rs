//! `POST /api/chats/{id}/messages`.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::api::extract::{ClientInfo, Json};
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::chats::{self, Reply};
use crate::error::AppResult;

/// A reply to the customer (delivered through the chat's channel once stored) or, with
/// `private: true`, an internal note. A reply longer than its channel takes (`reply_limit` of
/// the chat) is refused with `text_too_long`; an agent's reply in a chat from the queue makes
/// it theirs. `attachments` are ids of the chat's uploads: files the channel does not take
/// (kind or size) are refused with `attachment_not_accepted`; the rest go out after the text,
/// each as a message of its own (docs/media.md, "Sending files to customers").
#[utoipa::path(post, path = "/api/chats/{id}/messages", operation_id = "replyToChat", tag = "chats", security(("bearer" = [])), request_body = Reply,
    params(("id" = i64, Path, description = "Chat id")),
    responses((status = 201, body = Object), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn reply(
    State(state): State<AppState>,
    me: CurrentUser,
    client: ClientInfo,
    Path(id): Path<i64>,
    Json(input): Json<Reply>,
) -> AppResult<(StatusCode, Json<crate::model::Message>)> {
    let message = chats::reply(&state, &me, id, input, &client.ip).await?;
    Ok((StatusCode::CREATED, Json(message)))
}
