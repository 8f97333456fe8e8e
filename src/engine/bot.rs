//! The AI responder's changes: its answers (at most one per customer message), handoffs to
//! people and back.

use diesel::QueryResult;

use super::record::Recorder;
use crate::model::{
    BotReply, ChannelKind, ChatStatus, DeliveryStatus, Direction, EventType, Outcome,
};
use crate::store::chats;
use crate::store::connection::DbConnection;
use crate::store::messages::NewMessage;

pub(super) fn note(chat: &chats::Chat, text: String, now: chrono::NaiveDateTime) -> NewMessage {
    NewMessage {
        account_id: chat.account_id,
        chat_id: chat.id,
        channel_id: chat.channel_id,
        direction: Direction::Outbound,
        sender_kind: "system".into(),
        sender_id: None,
        external_id: None,
        text: Some(text),
        attachments: None,
        reply_to: None,
        is_private: true,
        delivery_status: DeliveryStatus::Note,
        sent_at: now,
        created_at: now,
        updated_at: now,
    }
}

/// Stores the bot's answer if the chat is still the bot's and nothing answered that message yet.
pub(super) fn bot_reply(conn: &mut DbConnection, reply: &BotReply) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let chat = chats::find(conn, reply.account_id, reply.chat_id)?;
    if chat.status != ChatStatus::Bot
        || crate::store::messages::answered_after(conn, chat.id, reply.answers)?
    {
        return Ok(rec.done());
    }
    let now = rec.now.naive_utc();
    let widget = crate::store::channels::kind_of(conn, chat.channel_id)? == ChannelKind::Widget;
    let stored = crate::store::messages::insert_message(
        conn,
        &NewMessage {
            sender_kind: "bot".into(),
            is_private: false,
            // Widget answers are read by the widget; Meta answers go out through the Send API.
            delivery_status: if widget {
                DeliveryStatus::Sent
            } else {
                DeliveryStatus::Pending
            },
            ..note(&chat, reply.text.clone(), now)
        },
    )?;
    crate::store::messages::record_ai_cost(
        conn,
        stored.id,
        &reply.model,
        reply.prompt_tokens,
        reply.completion_tokens,
        reply.latency_ms,
    )?;
    chats::touch(conn, chat.id, now, false)?;
    let message = crate::store::messages::message(conn, stored.id)?;
    rec.emit(
        reply.account_id,
        EventType::MessageCreated,
        Some(&chat),
        &message,
    )?;
    Ok(rec.done())
}

/// Moves a chat from the bot to people: `open`, a note saying why, and either to the one who
/// took it or into the queue (round robin picks it up from the `chat.updated`).
pub(super) fn handoff(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    reason: &str,
    by: Option<i64>,
    take: bool,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let chat = chats::find(conn, account_id, chat_id)?;
    if chat.status != ChatStatus::Bot {
        return Ok(rec.done());
    }
    let now = rec.now.naive_utc();
    let text = format!("Handed to a person: {reason}");
    let noted = crate::store::messages::insert_message(conn, &note(&chat, text, now))?;
    rec.emit(account_id, EventType::MessageCreated, Some(&chat), &noted)?;
    chats::set_status(conn, chat_id, ChatStatus::Open, now)?;
    let opened = chats::find(conn, account_id, chat_id)?;
    rec.emit(account_id, EventType::ChatUpdated, Some(&opened), &opened)?;
    if let (true, Some(user)) = (take, by) {
        if opened.assignee_id != Some(user) {
            return super::assignment::assign(conn, account_id, chat_id, Some(user), by).map(
                |mut more| {
                    rec.events.append(&mut more.events);
                    rec.done()
                },
            );
        }
    }
    Ok(rec.done())
}

/// Gives a chat back to the bot: `bot`, unassigned, with a note.
pub(super) fn return_to_bot(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    by: i64,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let chat = chats::find(conn, account_id, chat_id)?;
    if chat.status == ChatStatus::Bot {
        return Ok(rec.done());
    }
    let now = rec.now.naive_utc();
    let noted = crate::store::messages::insert_message(
        conn,
        &NewMessage {
            sender_id: Some(by),
            ..note(&chat, "Given back to the assistant.".into(), now)
        },
    )?;
    rec.emit(account_id, EventType::MessageCreated, Some(&chat), &noted)?;
    if chat.assignee_id.is_some() {
        let mut moved = super::assignment::assign(conn, account_id, chat_id, None, Some(by))?;
        rec.events.append(&mut moved.events);
    }
    chats::set_status(conn, chat_id, ChatStatus::Bot, now)?;
    let back = chats::find(conn, account_id, chat_id)?;
    rec.emit(account_id, EventType::ChatUpdated, Some(&back), &back)?;
    Ok(rec.done())
}
