//! Chats as agents work them: listing by what the policy lets them see, replies, notes, status, reads.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::error::{AppError, AppResult};
use crate::model::{
    self, AccountId, Actor, ChannelKind, ChatId, ChatStatus, Command, MessageId, Role, UserId,
};
use crate::store::chats::{self as store, Chat, ChatFilter};
use crate::store::contacts::Contact;
use crate::store::labels::Label;
use crate::store::messages::Message;

/// Longest note, in characters; replies are held to their channel's limit too
/// (`ChannelKind::reply_limit`).
pub const MAX_TEXT: usize = 4000;

/// A chat with what a list or detail view shows beside it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChatView {
    /// The chat.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub chat: Chat,
    /// The customer.
    #[schema(value_type = Object)]
    pub contact: Contact,
    /// The newest message.
    #[schema(value_type = Option<Object>)]
    pub last_message: Option<Message>,
    /// Customer messages the caller has not read.
    pub unread_count: i64,
    /// The channel it runs on.
    pub channel: ChannelRef,
    /// Its labels, by name.
    pub labels: Vec<Label>,
    /// Its customer's labels, by name.
    pub contact_labels: Vec<Label>,
    /// The longest reply its channel takes, in characters (notes: `MAX_TEXT`).
    pub reply_limit: usize,
}

/// What a chat view shows of its channel.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChannelRef {
    /// Channel id.
    pub id: i64,
    /// `facebook`, `instagram` or `widget`.
    pub kind: String,
    /// Display name.
    pub name: String,
}

/// A page of chats.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChatPage {
    /// Chats, most recent activity first.
    pub chats: Vec<ChatView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /api/chats` filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatQuery {
    /// `bot`, `open`, `pending` or `resolved`.
    #[param(pattern = "^(bot|open|pending|resolved)$")]
    pub status: Option<String>,
    /// `me`, `unassigned` or a user id.
    #[param(pattern = "^(me|unassigned|[0-9]{1,18})$")]
    pub assignee: Option<String>,
    /// From `next_cursor` of the previous page: `<microseconds>_<chat id>`.
    #[param(pattern = r"^-?[0-9]{1,17}_-?[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Only chats on this channel.
    pub channel_id: Option<i64>,
    /// Only chats carrying this label (its id).
    pub label: Option<i64>,
}

fn parse_cursor(cursor: &str) -> AppResult<(NaiveDateTime, i64)> {
    let bad = || AppError::bad_request("invalid_cursor", "cursor is not one this API returned");
    let (ms, id) = cursor.split_once('_').ok_or_else(bad)?;
    let ms: i64 = ms.parse().map_err(|_| bad())?;
    let id: i64 = id.parse().map_err(|_| bad())?;
    let at = DateTime::<Utc>::from_timestamp_micros(ms).ok_or_else(bad)?;
    Ok((at.naive_utc(), id))
}

fn cursor_of(chat: &Chat) -> Option<String> {
    chat.last_message_at
        .map(|at| format!("{}_{}", at.and_utc().timestamp_micros(), chat.id))
}

/// The chats the caller may see, filtered, newest activity first.
pub async fn list(state: &AppState, me: &CurrentUser, query: ChatQuery) -> AppResult<ChatPage> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(AppError::unprocessable(
            "invalid_limit",
            "limit must be 1 to 100",
        ));
    }
    if let Some(status) = &query.status {
        if status.parse::<ChatStatus>().is_err() {
            return Err(AppError::unprocessable(
                "invalid_status",
                "status must be bot, open, pending or resolved",
            ));
        }
    }
    let assignee = match query.assignee.as_deref() {
        None => None,
        Some("me") => Some(Some(me.principal.user_id)),
        Some("unassigned") => Some(None),
        Some(id) => Some(Some(id.parse::<i64>().map_err(|_| {
            AppError::unprocessable(
                "invalid_assignee",
                "assignee must be me, unassigned or a user id",
            )
        })?)),
    };
    let filter = ChatFilter {
        status: query.status,
        assignee,
        visible_to_agent: (me.principal.role == Role::Agent).then_some(me.principal.user_id),
        after: query.cursor.as_deref().map(parse_cursor).transpose()?,
        channel_id: query.channel_id,
        label_id: query.label,
    };
    let (account, user) = (me.principal.account_id, me.principal.user_id);
    let views = state
        .db()
        .run(move |conn| -> AppResult<Vec<ChatView>> {
            let chats = store::page(conn, account, &filter, limit)?;
            Ok(store::listings(conn, chats, user)?
                .into_iter()
                .map(ChatView::from)
                .collect())
        })
        .await?;
    let next_cursor = if views.len() as i64 == limit {
        views.last().and_then(|v| cursor_of(&v.chat))
    } else {
        None
    };
    Ok(ChatPage {
        chats: views,
        next_cursor,
    })
}

fn view(
    conn: &mut crate::store::connection::DbConnection,
    chat: Chat,
    user: i64,
) -> AppResult<ChatView> {
    store::listings(conn, vec![chat], user)?
        .pop()
        .map(ChatView::from)
        .ok_or_else(|| AppError::not_found("no such chat"))
}

impl From<store::ChatListing> for ChatView {
    fn from(listing: store::ChatListing) -> Self {
        let (id, kind, name) = listing.channel;
        let reply_limit = kind
            .parse::<ChannelKind>()
            .map_or(MAX_TEXT, ChannelKind::reply_limit);
        Self {
            chat: listing.chat,
            contact: listing.contact,
            last_message: listing.last_message,
            unread_count: listing.unread_count,
            channel: ChannelRef { id, kind, name },
            labels: listing.labels,
            contact_labels: listing.contact_labels,
            reply_limit,
        }
    }
}

/// Loads a chat of the caller's account; another account's is a 404.
async fn find_in_account(state: &AppState, me: &CurrentUser, id: i64) -> AppResult<Chat> {
    let account = me.principal.account_id;
    state
        .db()
        .run(move |conn| store::find(conn, account, id))
        .await
        .map_err(|e| match e {
            crate::store::DbError::Work(diesel::result::Error::NotFound) => {
                AppError::not_found("no such chat")
            }
            other => other.into(),
        })
}

/// Loads a chat the caller may see; anything else (another account's, another agent's) is a 404.
pub async fn find_visible(state: &AppState, me: &CurrentUser, id: i64) -> AppResult<Chat> {
    let chat = find_in_account(state, me, id).await?;
    if !me.principal.may(Action::SeeChat(&chat)) {
        return Err(AppError::not_found("no such chat"));
    }
    Ok(chat)
}

/// One chat with its contact, last message and unread count.
pub async fn show(state: &AppState, me: &CurrentUser, id: i64) -> AppResult<ChatView> {
    let chat = find_visible(state, me, id).await?;
    let user = me.principal.user_id;
    Ok(state.db().run(move |conn| view(conn, chat, user)).await?)
}

/// `GET /api/chats/{id}/messages` paging.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// Only messages with a smaller id.
    pub before: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// A page of a chat's messages, oldest first; page backwards with `before`.
pub async fn messages(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    query: MessageQuery,
) -> AppResult<Vec<Message>> {
    let chat = find_visible(state, me, id).await?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::unprocessable(
            "invalid_limit",
            "limit must be 1 to 200",
        ));
    }
    let mut page = state
        .db()
        .run(move |conn| crate::store::messages::messages_page(conn, chat.id, query.before, limit))
        .await?;
    page.reverse();
    Ok(page)
}

/// `POST /api/chats/{id}/messages` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// The text (may be empty when the reply carries attachments).
    #[serde(default)]
    pub text: String,
    /// An internal note, never sent to the customer.
    #[serde(default)]
    pub private: bool,
    /// Ids of files uploaded to this chat (`POST /api/chats/{id}/attachments`) that the reply
    /// carries, at most 10.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub attachments: Vec<i64>,
}

/// Stores a reply (delivered through the chat's channel after commit) or a note; returns the
/// message as committed (delivery may already be under way by the time the caller reads it).
/// A reply longer than the channel takes is refused with nothing stored; an agent's reply in a
/// chat from the queue makes the chat theirs (and the audit log says so).
pub async fn reply(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    input: Reply,
    ip: &str,
) -> AppResult<Message> {
    let chat = find_visible(state, me, id).await?;
    let text = input.text.trim().to_string();
    let mut attachments = input.attachments.clone();
    attachments.dedup();
    if attachments.len() > crate::model::MAX_ATTACHMENTS {
        return Err(AppError::unprocessable(
            "too_many_attachments",
            format!(
                "a reply carries at most {} files",
                crate::model::MAX_ATTACHMENTS
            ),
        ));
    }
    let empty = text.is_empty() && attachments.is_empty();
    if empty || (input.private && text.chars().count() > MAX_TEXT) {
        return Err(AppError::unprocessable(
            "invalid_text",
            format!("text must be 1 to {MAX_TEXT} characters (or empty with attachments)"),
        ));
    }
    let events = state
        .bus
        .submit(Command::AgentReply(model::AgentReply {
            account_id: AccountId(chat.account_id),
            chat_id: ChatId(chat.id),
            by: actor(me, ip),
            text,
            private: input.private,
            attachments: attachments.into_iter().map(model::MediaId).collect(),
            take: !input.private && me.principal.takes_by_replying(&chat),
        }))
        .await?
        .accepted()?;
    events
        .iter()
        .find_map(|e| match &e.data {
            model::EventData::MessageCreated(message) => Some(message.clone()),
            _ => None,
        })
        .ok_or_else(|| AppError::internal("reply committed without its message event"))
}

/// The caller, acting from this address.
fn actor(me: &CurrentUser, ip: &str) -> Actor {
    Actor {
        user_id: UserId(me.principal.user_id),
        ip: Some(ip.to_string()),
    }
}

/// `POST /api/chats/{id}/status` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `open`, `pending` or `resolved`.
    pub status: String,
}

/// Changes a chat's status.
pub async fn set_status(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    input: StatusChange,
) -> AppResult<ChatView> {
    let chat = find_visible(state, me, id).await?;
    let status = match input.status.parse::<ChatStatus>() {
        Ok(status) if status != ChatStatus::Bot => status,
        _ => {
            return Err(AppError::unprocessable(
                "invalid_status",
                "status must be open, pending or resolved",
            ))
        }
    };
    state
        .bus
        .submit(Command::SetStatus(model::SetStatus {
            account_id: AccountId(chat.account_id),
            chat_id: ChatId(chat.id),
            user_id: UserId(me.principal.user_id),
            status,
        }))
        .await?
        .accepted()?;
    show(state, me, id).await
}

/// `POST /api/chats/{id}/read` body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadUpTo {
    /// The last message read; default: the newest.
    pub message_id: Option<i64>,
}

/// Marks the chat read for the caller.
pub async fn mark_read(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    input: ReadUpTo,
) -> AppResult<ChatView> {
    let chat = find_visible(state, me, id).await?;
    let chat_id = chat.id;
    let latest = state
        .db()
        .run(move |conn| crate::store::messages::latest_message_id(conn, chat_id))
        .await?;
    let Some(latest) = latest else {
        return show(state, me, id).await;
    };
    let message_id = input.message_id.unwrap_or(latest).min(latest);
    state
        .bus
        .submit(Command::MarkRead(model::MarkRead {
            account_id: AccountId(chat.account_id),
            chat_id: ChatId(chat_id),
            user_id: UserId(me.principal.user_id),
            message_id: MessageId(message_id),
        }))
        .await?
        .accepted()?;
    show(state, me, id).await
}

/// `POST /api/chats/{id}/assign` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// The new assignee, or `null` to put the chat back in the queue.
    pub user_id: Option<i64>,
}

/// Assigns a chat: supervisors and admins any chat to anyone, an agent a chat from the queue to
/// themselves (as the policy says). Both assignees are told, the audit log records who.
pub async fn assign(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    input: Assignment,
    ip: &str,
) -> AppResult<ChatView> {
    let account = me.principal.account_id;
    // Not `find_visible`: an agent asking for another agent's chat is told it is not theirs to
    // take (403), as the policy decides.
    let chat = find_in_account(state, me, id).await?;
    if !me.principal.may(Action::AssignChat {
        chat: &chat,
        to: input.user_id,
    }) {
        return Err(AppError::forbidden(
            "you may take a chat from the queue for yourself; other assignments are for supervisors",
        ));
    }
    // Taking a chat from the queue for oneself: whoever commits first gets it.
    let taking = input.user_id == Some(me.principal.user_id)
        && chat.assignee_id.is_none()
        && chat.status != ChatStatus::Bot;
    let (account_id, chat_id, by) = (AccountId(account), ChatId(chat.id), actor(me, ip));
    let command = if taking {
        Command::Take(model::Take {
            account_id,
            chat_id,
            by,
        })
    } else {
        Command::Assign(model::Assign {
            account_id,
            chat_id,
            assignee_id: input.user_id.map(UserId),
            by: Some(by),
        })
    };
    state.bus.submit(command).await?.accepted()?;
    show(state, me, id).await
}

/// `POST /api/chats/{id}/handoff` body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    /// `human` (default): take the chat from the bot; `bot`: give it back.
    #[serde(default)]
    pub to: HandoffTarget,
}

/// Where a handoff sends the chat.
#[derive(Debug, Default, Clone, Copy, Deserialize, utoipa::ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum HandoffTarget {
    /// A person: an agent takes it for themselves; a supervisor or admin puts it in the queue.
    #[default]
    Human,
    /// The AI responder (only on channels with AI on).
    Bot,
}

/// Takes a chat from the bot, or gives it back; anyone who may see the chat.
pub async fn handoff(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    input: Handoff,
) -> AppResult<ChatView> {
    let chat = find_visible(state, me, id).await?;
    let (account_id, chat_id) = (AccountId(me.principal.account_id), ChatId(chat.id));
    let by = UserId(me.principal.user_id);
    let command = match input.to {
        HandoffTarget::Human => Command::Handoff(model::Handoff {
            account_id,
            chat_id,
            reason: format!("taken over by {}", me.user.name),
            by: Some(by),
            take: me.principal.role == Role::Agent,
        }),
        HandoffTarget::Bot => Command::ReturnToBot(model::ReturnToBot {
            account_id,
            chat_id,
            by,
        }),
    };
    state.bus.submit(command).await?.accepted()?;
    show(state, me, id).await
}
