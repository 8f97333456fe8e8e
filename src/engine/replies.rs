//! People in the team act on a chat: a reply or note (a reply takes a bot chat over), a
//! status change, reading up to a message.

use diesel::QueryResult;

use super::record::Recorder;
use crate::model::{ChatStatus, DeliveryStatus, Direction, EventType, Outcome};
use crate::store::chats;
use crate::store::connection::DbConnection;
use crate::store::messages::NewMessage;

/// What a person wrote in a chat, as `Command::AgentReply` carries it.
pub(super) struct AgentReply<'a> {
    pub(super) account_id: i64,
    pub(super) chat_id: i64,
    pub(super) user_id: i64,
    pub(super) text: &'a str,
    pub(super) private: bool,
    pub(super) take: bool,
}

pub(super) fn agent_reply(conn: &mut DbConnection, reply: &AgentReply<'_>) -> QueryResult<Outcome> {
    let AgentReply {
        account_id,
        chat_id,
        user_id,
        text,
        private,
        take,
    } = *reply;
    let mut rec = Recorder::new();
    let chat = chats::find(conn, account_id, chat_id)?;
    let now = rec.now.naive_utc();
    let by_hub = crate::store::channels::kind_of(conn, chat.channel_id)?.delivered_by_hub();
    // Replies the hub delivers itself are sent once stored; others wait for their sender.
    let status = match (private, by_hub) {
        (true, _) => DeliveryStatus::Note,
        (false, true) => DeliveryStatus::Sent,
        (false, false) => DeliveryStatus::Pending,
    };
    let message = crate::store::messages::insert_message(
        conn,
        &NewMessage {
            account_id,
            chat_id,
            channel_id: chat.channel_id,
            direction: Direction::Outbound,
            sender_kind: "agent".into(),
            sender_id: Some(user_id),
            external_id: None,
            text: Some(text.to_string()),
            attachments: None,
            reply_to: None,
            is_private: private,
            delivery_status: status,
            sent_at: now,
            created_at: now,
            updated_at: now,
        },
    )?;
    if !private {
        chats::touch(conn, chat_id, now, false)?;
        if chat.status == ChatStatus::Bot || chat.status == ChatStatus::Resolved {
            chats::set_status(conn, chat_id, ChatStatus::Open, now)?;
            let chat = chats::find(conn, account_id, chat_id)?;
            rec.emit(account_id, EventType::ChatUpdated, Some(&chat), &chat)?;
        }
        // Replying in a bot chat nobody holds takes it over; so does an agent's reply in a
        // chat from the queue.
        if (chat.status == ChatStatus::Bot || take) && chat.assignee_id.is_none() {
            let mut taken =
                super::assignment::assign(conn, account_id, chat_id, Some(user_id), Some(user_id))?;
            rec.events.append(&mut taken.events);
        }
    }
    rec.emit(account_id, EventType::MessageCreated, Some(&chat), &message)?;
    Ok(rec.done())
}

pub(super) fn set_status(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    user_id: i64,
    status: ChatStatus,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let chat = chats::find(conn, account_id, chat_id)?;
    if chat.status == status {
        return Ok(rec.done());
    }
    let now = rec.now.naive_utc();
    chats::set_status(conn, chat_id, status, now)?;
    if status == ChatStatus::Resolved {
        chats::set_resolved_at(conn, chat_id, now)?;
    }
    let chat = chats::find(conn, account_id, chat_id)?;
    tracing::debug!(chat_id, user_id, %status, "chat status changed");
    rec.emit(account_id, EventType::ChatUpdated, Some(&chat), &chat)?;
    Ok(rec.done())
}

pub(super) fn mark_read(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    user_id: i64,
    message_id: i64,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    if !crate::store::reads::mark_read(
        conn,
        account_id,
        chat_id,
        user_id,
        message_id,
        rec.now.naive_utc(),
    )? {
        return Ok(rec.done());
    }
    rec.emit_in(
        conn,
        account_id,
        EventType::ChatRead,
        chat_id,
        serde_json::json!({ "user_id": user_id, "last_read_message_id": message_id }),
    )?;
    Ok(rec.done())
}
