//! Leads: customers the AI responder recorded as wanting something, with how to reach them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::leads;
use crate::model::Lead;

/// Whether a chat has a lead with this email already.
pub fn has_email(conn: &mut DbConnection, chat_id: i64, email: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        leads::table
            .filter(leads::chat_id.eq(chat_id))
            .filter(leads::email.eq(email)),
    ))
    .get_result(conn)
}

/// Whether a chat has a lead with this phone number already.
pub fn has_phone(conn: &mut DbConnection, chat_id: i64, phone: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        leads::table
            .filter(leads::chat_id.eq(chat_id))
            .filter(leads::phone.eq(phone)),
    ))
    .get_result(conn)
}

/// Stores a lead; returns its id.
pub fn create(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    contact_id: i64,
    lead: &Lead,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    crate::insert_returning_id!(
        conn,
        crate::store::schema::leads,
        (
            leads::account_id.eq(account_id),
            leads::chat_id.eq(chat_id),
            leads::contact_id.eq(contact_id),
            leads::name.eq(&lead.name),
            leads::email.eq(&lead.email),
            leads::phone.eq(&lead.phone),
            leads::intent.eq(&lead.intent),
            leads::summary.eq(&lead.summary),
            leads::created_at.eq(now),
        )
    )
}
