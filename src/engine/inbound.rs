//! Customers write: a message or postback through a channel (once per channel message id),
//! opening a chat or reopening a resolved one; echoes, receipts, reactions and unsends.

use chrono::{DateTime, Utc};
use diesel::QueryResult;

use super::record::Recorder;
use crate::model::{ChatStatus, DeliveryStatus, Direction, EventType, InboundMessage, Outcome};
use crate::store::chats;
use crate::store::connection::DbConnection;
use crate::store::messages::NewMessage;

/// The contact's chat, opened when new and reopened when resolved.
pub(super) fn chat_for(
    conn: &mut DbConnection,
    rec: &mut Recorder,
    account_id: i64,
    channel_id: i64,
    contact_id: i64,
) -> QueryResult<chats::Chat> {
    let now = rec.now.naive_utc();
    match chats::latest_for_contact(conn, channel_id, contact_id)? {
        Some(chat) if chat.status == ChatStatus::Resolved => {
            chats::set_status(conn, chat.id, ChatStatus::Open, now)?;
            let chat = chats::find(conn, account_id, chat.id)?;
            rec.emit(account_id, EventType::ChatUpdated, Some(&chat), &chat)?;
            Ok(chat)
        }
        Some(chat) => Ok(chat),
        None => {
            let status = if crate::store::channels::ai_enabled(conn, channel_id)? {
                ChatStatus::Bot
            } else {
                ChatStatus::Open
            };
            let chat = chats::create(conn, account_id, channel_id, contact_id, status, now)?;
            rec.emit(account_id, EventType::ChatCreated, Some(&chat), &chat)?;
            Ok(chat)
        }
    }
}

/// Who wrote a message that arrived through a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Author {
    /// The customer.
    Customer,
    /// Our page, from Meta's own inbox (an echo we did not send through Switchboard).
    Page,
}

/// Stores a message that arrived through a channel, once per channel message id.
pub(super) fn channel_message(
    conn: &mut DbConnection,
    m: &InboundMessage,
    author: Author,
) -> QueryResult<Outcome> {
    if crate::store::messages::message_by_external(conn, m.channel_id, &m.external_id)?.is_some() {
        // A redelivery, or the echo of a send we already stored.
        return Ok(Outcome {
            events: Vec::new(),
            duplicate: true,
        });
    }
    let mut rec = Recorder::new();
    let contact_id = crate::store::contacts::upsert_contact(
        conn,
        m.account_id,
        m.channel_id,
        &m.contact_external_id,
    )?;
    let chat = chat_for(conn, &mut rec, m.account_id, m.channel_id, contact_id)?;
    let now = rec.now.naive_utc();
    let (direction, sender_kind, status) = match author {
        Author::Customer => (Direction::Inbound, "contact", DeliveryStatus::Received),
        Author::Page => (Direction::Outbound, "page", DeliveryStatus::Sent),
    };
    let message = crate::store::messages::insert_message(
        conn,
        &NewMessage {
            account_id: m.account_id,
            chat_id: chat.id,
            channel_id: m.channel_id,
            direction,
            sender_kind: sender_kind.into(),
            sender_id: None,
            external_id: Some(m.external_id.clone()),
            text: m.text.clone(),
            attachments: m.attachments.as_ref().map(ToString::to_string),
            reply_to: m.reply_to.clone(),
            is_private: false,
            delivery_status: status,
            sent_at: m.sent_at.naive_utc(),
            created_at: now,
            updated_at: now,
        },
    )?;
    chats::touch(conn, chat.id, message.sent_at, author == Author::Customer)?;
    rec.emit(
        m.account_id,
        EventType::MessageCreated,
        Some(&chat),
        &message,
    )?;
    Ok(rec.done())
}

pub(super) fn delivered(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    mids: &[String],
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let now = rec.now.naive_utc();
    for mid in mids {
        let Some(message) = crate::store::messages::message_by_external(conn, channel_id, mid)?
        else {
            continue;
        };
        if message.direction == Direction::Outbound
            && matches!(
                message.delivery_status,
                DeliveryStatus::Pending | DeliveryStatus::Sent
            )
        {
            crate::store::messages::set_delivery(conn, message.id, DeliveryStatus::Delivered, now)?;
            rec.message_updated(conn, account_id, message.id)?;
        }
    }
    Ok(rec.done())
}

pub(super) fn read(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    contact_external_id: &str,
    watermark: DateTime<Utc>,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let contact =
        crate::store::contacts::contact_by_external(conn, channel_id, contact_external_id)?;
    let Some(contact_id) = contact else {
        return Ok(rec.done());
    };
    let Some(chat) = chats::latest_for_contact(conn, channel_id, contact_id)? else {
        return Ok(rec.done());
    };
    let now = rec.now.naive_utc();
    for message in
        crate::store::messages::unread_outbound_until(conn, chat.id, watermark.naive_utc())?
    {
        crate::store::messages::set_delivery(conn, message.id, DeliveryStatus::Read, now)?;
        let message = crate::store::messages::message(conn, message.id)?;
        rec.emit(account_id, EventType::MessageUpdated, Some(&chat), &message)?;
    }
    Ok(rec.done())
}

pub(super) fn deleted(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    external_id: &str,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    if let Some(message) =
        crate::store::messages::message_by_external(conn, channel_id, external_id)?
    {
        if crate::store::messages::mark_deleted(conn, message.id, rec.now.naive_utc())? == 1 {
            rec.message_updated(conn, account_id, message.id)?;
        }
    }
    Ok(rec.done())
}

/// A customer's reaction annotates the message it is on (`message.updated`); a reaction to a
/// message that is not stored is acknowledged and dropped.
pub(super) fn reaction(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    target_external_id: &str,
    emoji: Option<&str>,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    if let Some(message) =
        crate::store::messages::message_by_external(conn, channel_id, target_external_id)?
    {
        if crate::store::messages::set_reaction(
            conn,
            &message,
            "contact",
            emoji,
            rec.now.naive_utc(),
        )? {
            rec.message_updated(conn, account_id, message.id)?;
        }
    }
    Ok(rec.done())
}
