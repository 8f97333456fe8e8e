//! Leads the AI responder captures: one per customer and contact detail, which fills in the
//! contact.

use diesel::prelude::*;

use super::record::Recorder;
use crate::model::{EventType, Lead, Outcome};
use crate::store::chats;
use crate::store::connection::DbConnection;
use crate::store::schema::{contacts, leads};

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
    rec.emit(conn, account_id, EventType::LeadCaptured, Some(&chat), data)?;
    Ok(rec.done())
}
