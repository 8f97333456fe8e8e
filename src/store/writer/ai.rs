//! The writer's side of the AI responder: bot answers (at most one per customer message),
//! handoffs to people and back, and captured leads.

use diesel::prelude::*;

use super::Recorder;
use crate::ai::tools::Lead;
use crate::bus::{BotReply, Outcome};
use crate::store::chats::{self, NewMessage};
use crate::store::connection::DbConnection;
use crate::store::schema::{channels, contacts, leads, messages};

/// Whether something already answered the customer's message `answers` (a bot or agent reply
/// after it).
fn answered(conn: &mut DbConnection, chat_id: i64, answers: i64) -> QueryResult<bool> {
    let later: i64 = messages::table
        .filter(messages::chat_id.eq(chat_id))
        .filter(messages::id.gt(answers))
        .filter(messages::direction.eq("outbound"))
        .filter(messages::is_private.eq(false))
        .count()
        .get_result(conn)?;
    Ok(later > 0)
}

fn note(chat: &chats::Chat, text: String, now: chrono::NaiveDateTime) -> NewMessage {
    NewMessage {
        account_id: chat.account_id,
        chat_id: chat.id,
        channel_id: chat.channel_id,
        direction: "outbound".into(),
        sender_kind: "system".into(),
        sender_id: None,
        external_id: None,
        text: Some(text),
        attachments: None,
        reply_to: None,
        is_private: true,
        delivery_status: "note".into(),
        sent_at: now,
        created_at: now,
        updated_at: now,
    }
}

/// Stores the bot's answer if the chat is still the bot's and nothing answered that message yet.
pub(super) fn bot_reply(conn: &mut DbConnection, reply: &BotReply) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let chat = chats::find(conn, reply.account_id, reply.chat_id)?;
    if chat.status != "bot" || answered(conn, chat.id, reply.answers)? {
        return Ok(rec.done());
    }
    let now = rec.now.naive_utc();
    let widget = channels::table
        .find(chat.channel_id)
        .select(channels::kind)
        .first::<String>(conn)?
        == "widget";
    let stored = chats::insert_message(
        conn,
        &NewMessage {
            sender_kind: "bot".into(),
            is_private: false,
            // Widget answers are read by the widget; Meta answers go out through the Send API.
            delivery_status: if widget { "sent" } else { "pending" }.into(),
            ..note(&chat, reply.text.clone(), now)
        },
    )?;
    diesel::update(messages::table.find(stored.id))
        .set((
            messages::ai_model.eq(&reply.model),
            messages::prompt_tokens.eq(reply.prompt_tokens),
            messages::completion_tokens.eq(reply.completion_tokens),
            messages::ai_latency_ms.eq(reply.latency_ms),
        ))
        .execute(conn)?;
    chats::touch(conn, chat.id, now, false)?;
    let message = chats::message(conn, stored.id)?;
    rec.emit(
        conn,
        reply.account_id,
        "message.created",
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
    if chat.status != "bot" {
        return Ok(rec.done());
    }
    let now = rec.now.naive_utc();
    let text = format!("Handed to a person: {reason}");
    let noted = chats::insert_message(conn, &note(&chat, text, now))?;
    rec.emit(conn, account_id, "message.created", Some(&chat), &noted)?;
    chats::set_status(conn, chat_id, "open", now)?;
    let opened = chats::find(conn, account_id, chat_id)?;
    rec.emit(conn, account_id, "chat.updated", Some(&opened), &opened)?;
    if let (true, Some(user)) = (take, by) {
        if opened.assignee_id != Some(user) {
            return super::assign(conn, account_id, chat_id, Some(user), by).map(|mut more| {
                rec.events.append(&mut more.events);
                rec.done()
            });
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
    if chat.status == "bot" {
        return Ok(rec.done());
    }
    let now = rec.now.naive_utc();
    let noted = chats::insert_message(
        conn,
        &NewMessage {
            sender_id: Some(by),
            ..note(&chat, "Given back to the assistant.".into(), now)
        },
    )?;
    rec.emit(conn, account_id, "message.created", Some(&chat), &noted)?;
    if chat.assignee_id.is_some() {
        let mut moved = super::assign(conn, account_id, chat_id, None, Some(by))?;
        rec.events.append(&mut moved.events);
    }
    chats::set_status(conn, chat_id, "bot", now)?;
    let back = chats::find(conn, account_id, chat_id)?;
    rec.emit(conn, account_id, "chat.updated", Some(&back), &back)?;
    Ok(rec.done())
}

/// Stores a lead for the chat's contact once (the same email or phone in the same chat is the
/// same lead), fills in the contact's missing details, and emits `lead.captured`.
pub(super) fn capture_lead(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    lead: &Lead,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let chat = chats::find(conn, account_id, chat_id)?;
    let mut same = leads::table.filter(leads::chat_id.eq(chat_id)).into_boxed();
    same = match (&lead.email, &lead.phone) {
        (Some(email), _) => same.filter(leads::email.eq(email.clone())),
        (None, Some(phone)) => same.filter(leads::phone.eq(phone.clone())),
        (None, None) => return Ok(rec.done()),
    };
    let seen: i64 = same.count().get_result(conn)?;
    if seen > 0 {
        return Ok(rec.done());
    }
    let now = rec.now.naive_utc();
    let id = crate::insert_returning_id!(
        conn,
        crate::store::schema::leads,
        (
            leads::account_id.eq(account_id),
            leads::chat_id.eq(chat_id),
            leads::contact_id.eq(chat.contact_id),
            leads::name.eq(&lead.name),
            leads::email.eq(&lead.email),
            leads::phone.eq(&lead.phone),
            leads::intent.eq(&lead.intent),
            leads::summary.eq(&lead.summary),
            leads::created_at.eq(now),
        )
    )?;
    let contact = chats::contact(conn, chat.contact_id)?;
    diesel::update(contacts::table.find(chat.contact_id))
        .set((
            contacts::name.eq(contact.name.or_else(|| lead.name.clone())),
            contacts::email.eq(lead.email.clone().or(contact.email)),
            contacts::phone.eq(lead.phone.clone().or(contact.phone)),
            contacts::updated_at.eq(now),
        ))
        .execute(conn)?;
    let data = serde_json::json!({
        "id": id,
        "chat_id": chat_id,
        "contact_id": chat.contact_id,
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "intent": lead.intent,
        "summary": lead.summary,
        "created_at": rec.now,
    });
    rec.emit(conn, account_id, "lead.captured", Some(&chat), data)?;
    Ok(rec.done())
}
