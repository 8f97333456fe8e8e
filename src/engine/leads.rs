//! Leads the AI responder captures: one per customer and contact detail, which fills in the
//! contact.

use super::record::Recorder;
use super::rule::{Rule, Ruled};
use crate::model::{CaptureLead, CapturedLead, EventData, Lead, Refusal};
use crate::store;
use crate::store::chats;
use crate::store::connection::DbConnection;

impl Rule for CaptureLead {
    /// Stores a lead for the chat's contact once per account (a lead with the same email, else
    /// the same phone, is the same customer: it is filled in and linked to the chat, without
    /// an event), fills in the contact's missing details, and emits `lead.captured`. A lead
    /// is a way to reach the customer: without an email or a phone it is refused.
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        capture_lead(conn, rec, self)
    }
}

fn capture_lead(conn: &mut DbConnection, rec: &mut Recorder, capture: &CaptureLead) -> Ruled {
    let (account_id, chat_id, lead) = (capture.account_id.0, capture.chat_id.0, &capture.lead);
    let chat = chats::find(conn, account_id, chat_id)?;
    if lead.email.is_none() && lead.phone.is_none() {
        return Err(Refusal::NoWayToReach.into());
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
        rec.changed();
        return Ok(());
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
    let captured = CapturedLead {
        id,
        chat_id,
        contact_id: chat.contact_id,
        name: lead.name.clone(),
        email: lead.email.clone(),
        phone: lead.phone.clone(),
        intent: lead.intent.clone(),
        summary: lead.summary.clone(),
        created_at: rec.now,
    };
    rec.emit(account_id, Some(&chat), EventData::LeadCaptured(captured));
    Ok(())
}
