//! Leads the AI responder captures: one per customer and contact detail, which fills in the
//! contact.

use diesel::QueryResult;

use super::record::Recorder;
use crate::model::{EventType, Lead, Outcome};
use crate::store;
use crate::store::chats;
use crate::store::connection::DbConnection;

/// Stores a lead for the chat's contact once per account (a lead with the same email, else the
/// same phone, is the same customer: it is filled in and linked to the chat, without an event),
/// fills in the contact's missing details, and emits `lead.captured`.
pub(super) fn capture_lead(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    lead: &Lead,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let chat = chats::find(conn, account_id, chat_id)?;
    // A lead is a way to reach the customer: an email, else a phone.
    if lead.email.is_none() && lead.phone.is_none() {
        return Ok(rec.done());
    }
    // Leads keep phones normalised, so one number written two ways is one lead; the contact
    // keeps it as the customer wrote it.
    let kept = Lead {
        phone: lead.phone.as_deref().map(crate::model::normalize_phone),
        ..lead.clone()
    };
    let same = store::leads::find_same(
        conn,
        account_id,
        kept.email.as_deref(),
        kept.phone.as_deref(),
    )?;
    if let Some(id) = same {
        store::leads::fill_from_capture(conn, id, chat_id, chat.contact_id, &kept)?;
        return Ok(rec.done());
    }
    let now = rec.now.naive_utc();
    let id = store::leads::create(conn, account_id, chat_id, chat.contact_id, &kept, now)?;
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
