//! The events table and the per-account counter that numbers events inside the committing transaction.

use std::sync::Arc;

use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::{accounts, events};
use crate::model::{Event, EventData, EventType};

/// An event row as stored. A missing value is stored as NULL, so every row has the same
/// columns and one statement inserts many.
#[derive(Insertable)]
#[diesel(table_name = events, treat_none_as_default_value = false)]
struct NewEvent {
    account_id: i64,
    seq: i64,
    event_type: &'static str,
    chat_id: Option<i64>,
    payload: String,
    created_at: chrono::NaiveDateTime,
    assignee_id: Option<i64>,
    previous_assignee_id: Option<i64>,
}

/// Rows per insert: well under every backend's limit on bound values (8 per row).
const ROWS_PER_INSERT: usize = 1000;

/// Numbers a group's events in the order given and stores them: each account's seq counts on
/// from its stored value (its counter row, or SQLite's write lock, is held until commit, so seq
/// order is commit order), then one insert per thousand events (on SQLite one prepared insert
/// each) and one counter update per account.
pub fn append_numbered<'a>(
    conn: &mut DbConnection,
    group: impl IntoIterator<Item = &'a mut Arc<Event>>,
) -> QueryResult<()> {
    // (account, last seq given): a group touches few accounts.
    let mut counters: Vec<(i64, i64)> = Vec::new();
    let mut rows = Vec::new();
    for event in group {
        let account = event.account_id;
        let at = match counters.iter().position(|(a, _)| *a == account) {
            Some(at) => at,
            None => {
                counters.push((account, seq_for_write(conn, account)?));
                counters.len() - 1
            }
        };
        counters[at].1 += 1;
        let event = Arc::make_mut(event);
        event.seq = counters[at].1;
        rows.push(NewEvent {
            account_id: account,
            seq: event.seq,
            event_type: event.event_type.as_str(),
            chat_id: event.chat_id,
            payload: serde_json::to_string(&event.data)
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?,
            created_at: event.at.naive_utc(),
            assignee_id: event.assignee_id,
            previous_assignee_id: event.previous_assignee_id,
        });
    }
    match conn {
        // One prepared single-row insert each: a multi-row insert would make SQLite copy every
        // page it touches into a statement journal first.
        DbConnection::Sqlite(c) => {
            for row in &rows {
                diesel::insert_into(events::table).values(row).execute(c)?;
            }
        }
        _ => {
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let insert = diesel::insert_into(events::table).values(chunk);
                crate::on_backend!(&mut *conn, |c| insert.execute(c))?;
            }
        }
    }
    for (account, last) in counters {
        diesel::update(accounts::table.find(account))
            .set(accounts::event_seq.eq(last))
            .execute(conn)?;
    }
    Ok(())
}

/// The account's seq, read under its write lock (its counter row; on SQLite the database's
/// write lock), held until commit: one locking read where the group holds it already.
fn seq_for_write(conn: &mut DbConnection, account_id: i64) -> QueryResult<i64> {
    let counter = accounts::table.find(account_id).select(accounts::event_seq);
    match conn {
        DbConnection::Sqlite(_) => {
            super::accounts::lock_for_write(conn, &[account_id])?;
            latest_seq(conn, account_id)
        }
        // Not FOR UPDATE: that would also wait on the key-share locks other transactions'
        // foreign keys take on the account row.
        DbConnection::Postgres(c) => counter.for_no_key_update().first(c),
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(c) => counter.for_update().first(c),
    }
}

/// The newest seq of an account (0 before the first event).
pub fn latest_seq(conn: &mut DbConnection, account_id: i64) -> QueryResult<i64> {
    super::schema::accounts::table
        .find(account_id)
        .select(super::schema::accounts::event_seq)
        .first(conn)
}

/// Every account's newest seq, as (account, seq).
pub fn latest_seqs(conn: &mut DbConnection) -> QueryResult<Vec<(i64, i64)>> {
    accounts::table
        .select((accounts::id, accounts::event_seq))
        .load(conn)
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
                use diesel::result::Error::DeserializationError;
                let event_type: EventType = event_type
                    .parse()
                    .map_err(|e| DeserializationError(Box::new(e)))?;
                let data = EventData::read(event_type, &payload)
                    .map_err(|e| DeserializationError(Box::new(e)))?;
                Ok(Event {
                    seq,
                    account_id,
                    event_type,
                    chat_id,
                    data,
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
