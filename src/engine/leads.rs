//! Leads the AI responder captures: one per customer and contact detail, which fills in the
//! contact.

use diesel::QueryResult;

use super::record::Recorder;
use crate::model::{EventType, Lead, Outcome};
use crate::store;
use crate::store::chats;
use crate::store::connection::DbConnection;

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
    // A lead is a way to reach the customer: an email, else a phone; the same one twice in a
    // chat is the same lead.
    let seen = match (&lead.email, &lead.phone) {
        (Some(email), _) => store::leads::has_email(conn, chat_id, email)?,
        (None, Some(phone)) => store::leads::has_phone(conn, chat_id, phone)?,
        (None, None) => return Ok(rec.done()),
    };
    if seen {
        return Ok(rec.done());
    }
    let now = rec.now.naive_utc();
    let id = store::leads::create(conn, account_id, chat_id, chat.contact_id, lead, now)?;
    crate::store::contacts::fill_contact_from_lead(
        conn,
        chat.contact_id,
        lead.name.clone(),
        lead.email.clone(),
        lead.phone.clone(),
        now,
    )?;
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
    rec.emit(account_id, EventType::LeadCaptured, Some(&chat), data)?;
    Ok(rec.done())
}
