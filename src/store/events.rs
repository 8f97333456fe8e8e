//! The events table and the per-account counter that numbers events inside the committing transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::{accounts, events};
use crate::bus::Event;

/// Takes the account's next seq (the counter row stays locked until commit, so seq order is
/// commit order), stores the event, and returns it.
pub fn append(
    conn: &mut DbConnection,
    account_id: i64,
    event_type: &str,
    chat_id: Option<i64>,
    data: serde_json::Value,
    at: DateTime<Utc>,
) -> QueryResult<Event> {
    diesel::update(accounts::table.find(account_id))
        .set(accounts::event_seq.eq(accounts::event_seq + 1))
        .execute(conn)?;
    let seq: i64 = accounts::table
        .find(account_id)
        .select(accounts::event_seq)
        .first(conn)?;
    diesel::insert_into(events::table)
        .values((
            events::account_id.eq(account_id),
            events::seq.eq(seq),
            events::event_type.eq(event_type),
            events::chat_id.eq(chat_id),
            events::payload.eq(data.to_string()),
            events::created_at.eq(at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(Event {
        seq,
        account_id,
        event_type: event_type.to_string(),
        chat_id,
        data,
        at,
    })
}

/// The seqs of an account's stored events, in order (for checks).
pub fn seqs(conn: &mut DbConnection, account_id: i64) -> QueryResult<Vec<i64>> {
    events::table
        .filter(events::account_id.eq(account_id))
        .order(events::seq.asc())
        .select(events::seq)
        .load(conn)
}
