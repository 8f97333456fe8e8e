//! The events table and the per-account counter that numbers events inside the committing transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::{accounts, events};
use crate::model::{Event, EventType};

/// Takes the account's next seq (the counter row stays locked until commit, so seq order is
/// commit order), stores the event, and returns it.
pub fn append(
    conn: &mut DbConnection,
    account_id: i64,
    event_type: EventType,
    chat: Option<&crate::store::chats::Chat>,
    data: serde_json::Value,
    at: DateTime<Utc>,
) -> QueryResult<Event> {
    let chat_id = chat.map(|c| c.id);
    let assignee_id = chat.and_then(|c| c.assignee_id);
    let seq = next_seq(conn, account_id)?;
    diesel::insert_into(events::table)
        .values((
            events::account_id.eq(account_id),
            events::seq.eq(seq),
            events::event_type.eq(event_type.as_str()),
            events::chat_id.eq(chat_id),
            events::payload.eq(data.to_string()),
            events::created_at.eq(at.naive_utc()),
            events::assignee_id.eq(assignee_id),
        ))
        .execute(conn)?;
    Ok(Event {
        seq,
        account_id,
        event_type,
        chat_id,
        data,
        at,
        assignee_id,
        previous_assignee_id: None,
        contact_id: chat.map(|c| c.contact_id),
        chat_status: chat.map(|c| c.status),
        json: Default::default(),
    })
}

/// Counts the account's seq up by one and returns it: one statement where the database can
/// return what it updated (SQLite, PostgreSQL), an update and a read on MySQL.
fn next_seq(conn: &mut DbConnection, account_id: i64) -> QueryResult<i64> {
    let bump = diesel::update(accounts::table.find(account_id))
        .set(accounts::event_seq.eq(accounts::event_seq + 1));
    match conn {
        DbConnection::Sqlite(c) => bump.returning(accounts::event_seq).get_result(c),
        DbConnection::Postgres(c) => bump.returning(accounts::event_seq).get_result(c),
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(c) => {
            bump.execute(c)?;
            accounts::table
                .find(account_id)
                .select(accounts::event_seq)
                .first(c)
        }
    }
}

/// The newest seq of an account (0 before the first event).
pub fn latest_seq(conn: &mut DbConnection, account_id: i64) -> QueryResult<i64> {
    super::schema::accounts::table
        .find(account_id)
        .select(super::schema::accounts::event_seq)
        .first(conn)
}

/// The oldest seq still kept for an account, if any.
pub fn oldest_seq(conn: &mut DbConnection, account_id: i64) -> QueryResult<Option<i64>> {
    events::table
        .filter(events::account_id.eq(account_id))
        .select(diesel::dsl::min(events::seq))
        .first(conn)
}

/// One stored event: seq, type, chat, payload, time, assignee, previous assignee.
type EventRow = (
    i64,
    String,
    Option<i64>,
    String,
    chrono::NaiveDateTime,
    Option<i64>,
    Option<i64>,
);

/// An account's events after `since`, up to `until`, in seq order.
pub fn range(
    conn: &mut DbConnection,
    account_id: i64,
    since: i64,
    until: i64,
) -> QueryResult<Vec<Event>> {
    let rows: Vec<EventRow> = events::table
        .filter(events::account_id.eq(account_id))
        .filter(events::seq.gt(since))
        .filter(events::seq.le(until))
        .order(events::seq.asc())
        .select((
            events::seq,
            events::event_type,
            events::chat_id,
            events::payload,
            events::created_at,
            events::assignee_id,
            events::previous_assignee_id,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(seq, event_type, chat_id, payload, at, assignee_id, previous_assignee_id)| {
                Ok(Event {
                    seq,
                    account_id,
                    event_type: event_type
                        .parse()
                        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?,
                    chat_id,
                    data: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                    at: at.and_utc(),
                    assignee_id,
                    previous_assignee_id,
                    contact_id: None,
                    chat_status: None,
                    json: Default::default(),
                })
            },
        )
        .collect()
}

/// The seqs of an account's stored events, in order (for checks).
pub fn seqs(conn: &mut DbConnection, account_id: i64) -> QueryResult<Vec<i64>> {
    events::table
        .filter(events::account_id.eq(account_id))
        .order(events::seq.asc())
        .select(events::seq)
        .load(conn)
}

/// Records the previous assignee on a `chat.assigned` event.
pub fn set_previous_assignee(
    conn: &mut DbConnection,
    account_id: i64,
    seq: i64,
    previous: Option<i64>,
) -> QueryResult<usize> {
    diesel::update(
        events::table
            .filter(events::account_id.eq(account_id))
            .filter(events::seq.eq(seq)),
    )
    .set(events::previous_assignee_id.eq(previous))
    .execute(conn)
}
