//! API channels: a business's own app posts its customers' messages server to server with the
//! channel's key; each is stored once by its `message_id`, and with `wait` the answer carries
//! the bot's reply when it comes in time.

use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::model::{
    AccountId, ChannelId, Command, ContactId, ContactUpdate, Direction, EventData, InboundMessage,
    Message, UpdateContact,
};
use crate::store::channels::Channel;
use crate::tokens;

/// Longest message text, in characters.
pub const MAX_TEXT: usize = 4000;
/// Longest `conversation`, `message_id` or contact field, in characters.
const MAX_FIELD: usize = 200;
/// Longest wait for the bot's reply, in seconds.
pub const MAX_WAIT: u64 = 30;

/// `POST /api/channels/{id}/messages` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostedMessage {
    /// The business's own id of the conversation (one customer on this channel), 1 to 200
    /// characters: the same id continues the same chat.
    #[schema(min_length = 1, max_length = 200)]
    pub conversation: String,
    /// Who the customer is, as the business knows them; given fields are kept on the contact.
    pub contact: Option<PostedContact>,
    /// The customer's message, 1 to 4,000 characters.
    #[schema(min_length = 1, max_length = 4000)]
    pub text: String,
    /// The business's own id of this message, 1 to 200 characters: a message posted again
    /// with the same id is stored once.
    #[schema(min_length = 1, max_length = 200)]
    pub message_id: Option<String>,
}

/// The customer, as the business's app knows them.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostedContact {
    /// Name, at most 200 characters.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// Email, at most 200 characters.
    #[schema(max_length = 200)]
    pub email: Option<String>,
    /// Phone, at most 200 characters.
    #[schema(max_length = 200)]
    pub phone: Option<String>,
}

/// `POST /api/channels/{id}/messages` query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Seconds (0 to 30) to wait for the bot's reply on a channel with the AI on.
    #[param(minimum = 0, maximum = 30)]
    pub wait: Option<u64>,
}

/// What a post stored, and the bot's reply when it was waited for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Posted {
    /// The stored message (on a repeat, as stored the first time).
    #[schema(value_type = Object)]
    pub message: Message,
    /// Whether this `message_id` was stored before (nothing new was stored).
    pub duplicate: bool,
    /// The bot's reply, when `wait` was given and it came in time; otherwise null.
    #[schema(value_type = Option<Object>)]
    pub reply: Option<Message>,
}

fn unauthorized() -> AppError {
    AppError::unauthorized("unauthorized", "a valid channel key is required")
}

/// The API channel `id` if `bearer` is its key; any failure is the same 401.
pub async fn channel(state: &AppState, id: i64, bearer: Option<&str>) -> AppResult<Channel> {
    let given = crate::auth::keys::hash(bearer.ok_or_else(unauthorized)?);
    let (channel, hash) = state
        .db()
        .run(move |conn| crate::store::channels::api_channel(conn, id))
        .await?
        .ok_or_else(unauthorized)?;
    if !tokens::constant_time_eq(hash.as_bytes(), given.as_bytes()) {
        return Err(unauthorized());
    }
    Ok(channel)
}

fn field(value: String, name: &str, required: bool) -> AppResult<Option<String>> {
    let value = value.trim().to_string();
    if (required && value.is_empty()) || value.chars().count() > MAX_FIELD || value.contains('\0') {
        return Err(AppError::unprocessable(
            "invalid_field",
            format!("{name} must be 1 to {MAX_FIELD} characters"),
        ));
    }
    Ok((!value.is_empty()).then_some(value))
}

fn checked_text(text: &str) -> AppResult<String> {
    let text = text.trim().replace('\0', "");
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        return Err(AppError::unprocessable(
            "invalid_text",
            format!("text must be 1 to {MAX_TEXT} characters"),
        ));
    }
    Ok(text)
}

/// A posted message's fields, checked.
struct Checked {
    conversation: String,
    text: String,
    message_id: String,
    details: ContactUpdate,
}

fn check(input: PostedMessage, wait: u64) -> AppResult<Checked> {
    if wait > MAX_WAIT {
        return Err(AppError::unprocessable(
            "invalid_wait",
            format!("wait must be 0 to {MAX_WAIT} seconds"),
        ));
    }
    let conversation = field(input.conversation, "conversation", true)?.unwrap_or_default();
    let text = checked_text(&input.text)?;
    let message_id = match input.message_id {
        Some(id) => field(id, "message_id", true)?.unwrap_or_default(),
        None => tokens::random_hex(16),
    };
    let contact = input.contact.unwrap_or_default();
    let details = ContactUpdate {
        name: field(contact.name.unwrap_or_default(), "contact.name", false)?.map(Some),
        email: field(contact.email.unwrap_or_default(), "contact.email", false)?.map(Some),
        phone: field(contact.phone.unwrap_or_default(), "contact.phone", false)?.map(Some),
        from_profile: true,
        ..ContactUpdate::default()
    };
    Ok(Checked {
        conversation,
        text,
        message_id,
        details,
    })
}

/// Stores a customer's message posted by the business's app; answers once it is durable, and
/// with `wait` once the bot replied or the wait ended.
pub async fn post(
    state: &AppState,
    channel: &Channel,
    input: PostedMessage,
    wait: Option<u64>,
) -> AppResult<Posted> {
    let wait = wait.unwrap_or(0);
    let Checked {
        conversation,
        text,
        message_id,
        details,
    } = check(input, wait)?;
    state
        .limits
        .api_channel
        .check(&channel.id.to_string())
        .map_err(AppError::too_many_requests)?;
    let events =
        (wait > 0 && channel.ai_enabled).then(|| state.bus.subscribe_account(channel.account_id));
    let outcome = state
        .bus
        .submit(Command::Inbound(InboundMessage {
            account_id: AccountId(channel.account_id),
            channel_id: ChannelId(channel.id),
            contact_external_id: conversation.clone(),
            external_id: message_id.clone(),
            text: Some(text),
            attachments: None,
            reply_to: None,
            sent_at: Utc::now(),
            uploads: None,
        }))
        .await?;
    let events_stored = outcome.accepted()?;
    let Some(message) = events_stored.iter().find_map(|e| e.data.message()).cloned() else {
        return repeat(state, channel.id, message_id).await;
    };
    if details
        != (ContactUpdate {
            from_profile: true,
            ..ContactUpdate::default()
        })
    {
        keep_contact(state, channel, &conversation, details).await?;
    }
    let reply = match events {
        Some(events) => reply_to(events, &message, Duration::from_secs(wait)).await,
        None => None,
    };
    Ok(Posted {
        message,
        duplicate: false,
        reply,
    })
}

/// A `message_id` stored before: the message as stored then.
async fn repeat(state: &AppState, channel_id: i64, message_id: String) -> AppResult<Posted> {
    let stored = state
        .db()
        .run(move |conn| crate::store::messages::message_by_external(conn, channel_id, &message_id))
        .await?
        .ok_or_else(|| AppError::internal("a repeated API message was not found"))?;
    Ok(Posted {
        message: stored,
        duplicate: true,
        reply: None,
    })
}

/// Keeps the contact details the business gave (a name a person set in the console stays).
async fn keep_contact(
    state: &AppState,
    channel: &Channel,
    conversation: &str,
    update: ContactUpdate,
) -> AppResult<()> {
    let (channel_id, external) = (channel.id, conversation.to_string());
    let contact = state
        .db()
        .run(move |conn| crate::store::contacts::contact_by_external(conn, channel_id, &external))
        .await?;
    if let Some(contact_id) = contact {
        state
            .bus
            .submit(Command::UpdateContact(UpdateContact {
                account_id: AccountId(channel.account_id),
                contact_id: ContactId(contact_id),
                update,
            }))
            .await?;
    }
    Ok(())
}

/// The first reply in `message`'s chat after it (the bot's, or a person's), within `wait`.
async fn reply_to(
    mut events: tokio::sync::broadcast::Receiver<std::sync::Arc<crate::model::Event>>,
    message: &Message,
    wait: Duration,
) -> Option<Message> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let event = match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) | Ok(Err(RecvError::Closed)) => return None,
            Ok(Err(RecvError::Lagged(_))) => continue,
            Ok(Ok(event)) => event,
        };
        if let EventData::MessageCreated(m) = &event.data {
            if m.chat_id == message.chat_id
                && m.id > message.id
                && m.direction == Direction::Outbound
                && !m.is_private
            {
                return Some(m.clone());
            }
        }
    }
}
