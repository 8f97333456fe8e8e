//! Files a widget visitor attaches: received into their chat (opened by a first upload), only
//! of the types their channel takes, and shown to them by signed links (visitors have no login).

use axum::body::Body;
use axum::http::StatusCode;
use serde_json::Value;

use super::{sign, Visitor};
use crate::app::AppState;
use crate::channels::WidgetSettings;
use crate::error::{AppError, AppResult};
use crate::media::upload::{Target, Uploaded, Uploader};
use crate::model::{AccountId, ChannelId, Command, OpenChat};

/// Receives the files a visitor attaches (`multipart/form-data`) into their chat: 403
/// `uploads_off` when the channel takes none, 429 past the session's upload limit, 415
/// `type_not_allowed` for a type the channel does not take.
pub async fn upload(
    state: &AppState,
    visitor: &Visitor,
    content_type: Option<&str>,
    body: Body,
) -> AppResult<Uploaded> {
    state
        .limits
        .widget_upload
        .check(&visitor.session_id)
        .map_err(AppError::too_many_requests)?;
    let allowed = upload_types(state, visitor).await?;
    if allowed.is_empty() {
        return Err(AppError::custom(
            StatusCode::FORBIDDEN,
            "uploads_off",
            "this chat does not take files",
        ));
    }
    let target = Target {
        account_id: visitor.account_id,
        chat_id: chat_of(state, visitor).await?,
    };
    let uploader = Uploader::Visitor {
        session_id: visitor.session_id.clone(),
        allowed,
    };
    let rows = crate::media::upload::receive(state, target, uploader, content_type, body).await?;
    let mut list = Value::Array(rows.iter().map(crate::media::attachment).collect());
    sign(state, &mut list);
    let attachments = match list {
        Value::Array(items) => items,
        other => vec![other],
    };
    Ok(Uploaded { attachments })
}

/// The types of file the visitor's channel takes.
async fn upload_types(state: &AppState, visitor: &Visitor) -> AppResult<Vec<String>> {
    let (account, channel) = (visitor.account_id, visitor.channel_id);
    let stored = state
        .db()
        .run(move |conn| crate::store::channels::find(conn, account, channel))
        .await?
        .widget_settings;
    Ok(WidgetSettings::stored(stored.as_deref()).upload_types)
}

/// The visitor's chat, where their next message goes: their latest, or a new one opened now as
/// their first message would open it.
async fn chat_of(state: &AppState, visitor: &Visitor) -> AppResult<i64> {
    if let Some(chat) = latest_chat(state, visitor).await? {
        return Ok(chat);
    }
    state
        .bus
        .submit(Command::OpenChat(OpenChat {
            account_id: AccountId(visitor.account_id),
            channel_id: ChannelId(visitor.channel_id),
            contact_external_id: visitor.external_id.clone(),
        }))
        .await?
        .accepted()?;
    latest_chat(state, visitor)
        .await?
        .ok_or_else(|| AppError::internal("the visitor's chat did not open"))
}

async fn latest_chat(state: &AppState, visitor: &Visitor) -> AppResult<Option<i64>> {
    let (channel, contact) = (visitor.channel_id, visitor.contact_id);
    let chat = state
        .db()
        .run(move |conn| crate::store::chats::latest_for_contact(conn, channel, contact))
        .await?;
    Ok(chat.map(|c| c.id))
}
