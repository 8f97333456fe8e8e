//! Messages of chats: stored once per channel message id, their delivery, reactions, what
//! the AI responder reads.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::{chats, messages};
use crate::model::{DeliveryStatus, Direction};

pub use crate::model::Message;

/// Sets who reacted how on a message: `by`'s reaction becomes `emoji`, or goes with `None`.
/// Returns whether anything changed.
pub fn set_reaction(
    conn: &mut DbConnection,
    message: &Message,
    by: &str,
    emoji: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let mut list: Vec<serde_json::Value> = message
        .reactions
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    let before = list.clone();
    list.retain(|r| r["by"] != by);
    if let Some(emoji) = emoji {
        list.push(serde_json::json!({"emoji": emoji, "by": by}));
    }
    if list == before {
        return Ok(false);
    }
    let text = (!list.is_empty()).then(|| serde_json::Value::Array(list).to_string());
    diesel::update(messages::table.find(message.id))
        .set((messages::reactions.eq(text), messages::updated_at.eq(now)))
        .execute(conn)?;
    Ok(true)
}

/// A message by its channel id, if stored.
pub fn message_by_external(
    conn: &mut DbConnection,
    channel_id: i64,
    external_id: &str,
) -> QueryResult<Option<Message>> {
    crate::on_backend!(conn, |c| messages::table
        .filter(messages::channel_id.eq(channel_id))
        .filter(messages::external_id.eq(external_id))
        .select(Message::as_select())
        .first(c)
        .optional())
}

/// Which of the given (channel, channel message id) pairs are stored: one query for all of a
/// group's deliveries (on SQLite, where a statement costs no round trip, one prepared lookup
/// run for each).
pub fn stored_external_ids(
    conn: &mut DbConnection,
    keys: &[(i64, &str)],
) -> QueryResult<Vec<(i64, String)>> {
    if let DbConnection::Sqlite(c) = conn {
        let mut stored = Vec::new();
        for (channel, id) in keys {
            let found = messages::table
                .filter(messages::channel_id.eq(channel))
                .filter(messages::external_id.eq(id))
                .select(messages::id)
                .first::<i64>(c)
                .optional()?;
            if found.is_some() {
                stored.push((*channel, id.to_string()));
            }
        }
        return Ok(stored);
    }
    if let DbConnection::Postgres(c) = conn {
        let rows = super::dialect::pg_by_channel_key(c, "messages", keys)?;
        return Ok(rows
            .into_iter()
            .map(|(channel, id, _)| (channel, id))
            .collect());
    }
    let channels: Vec<i64> = keys.iter().map(|(channel, _)| *channel).collect();
    let query = messages::table
        .filter(messages::channel_id.eq_any(channels))
        .filter(messages::external_id.eq_any(keys.iter().map(|(_, id)| *id)))
        .select((messages::channel_id, messages::external_id));
    let rows: Vec<(i64, Option<String>)> = crate::on_backend!(conn, |c| query.load(c))?;
    Ok(rows
        .into_iter()
        .filter_map(|(channel, id)| Some((channel, id?)))
        .collect())
}

/// One message by id.
pub fn message(conn: &mut DbConnection, id: i64) -> QueryResult<Message> {
    messages::table
        .find(id)
        .select(Message::as_select())
        .first(conn)
}

/// The fields of a new message. A missing value is stored as NULL (not left to the column's
/// default), so the insert's SQL is the same for every message and is prepared once.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = messages, treat_none_as_default_value = false)]
pub struct NewMessage {
    /// Owning account.
    pub account_id: i64,
    /// Its chat.
    pub chat_id: i64,
    /// Its channel.
    pub channel_id: i64,
    /// From the customer, or to them.
    #[diesel(serialize_as = String)]
    pub direction: Direction,
    /// Who wrote it.
    pub sender_kind: String,
    /// The agent who wrote it.
    pub sender_id: Option<i64>,
    /// The channel's id for it.
    pub external_id: Option<String>,
    /// Text.
    pub text: Option<String>,
    /// Attachments JSON text.
    pub attachments: Option<String>,
    /// The message replied to.
    pub reply_to: Option<String>,
    /// Internal note.
    pub is_private: bool,
    /// Delivery state.
    #[diesel(serialize_as = String)]
    pub delivery_status: DeliveryStatus,
    /// When it was sent.
    pub sent_at: NaiveDateTime,
    /// Stored.
    pub created_at: NaiveDateTime,
    /// Changed.
    pub updated_at: NaiveDateTime,
}

/// Stores a message and indexes it for search; returns it.
pub fn insert_message(conn: &mut DbConnection, new: &NewMessage) -> QueryResult<Message> {
    let message =
        crate::insert_returning_row!(conn, crate::store::schema::messages, new.clone(), Message)?;
    if let DbConnection::Sqlite(c) = conn {
        index_for_search(c, message.id, message.id)?;
    }
    Ok(message)
}

/// Rows per insert on PostgreSQL: well under its limit on bound values (15 per row).
const ROWS_PER_INSERT: usize = 1000;

/// Stores messages and indexes them for search; returns them in no particular order.
/// PostgreSQL: one statement per thousand, a round trip each. SQLite: one prepared single-row
/// insert per message (no round trips to save, and a multi-row insert would make SQLite copy
/// every page it touches into a statement journal first), then one statement for the search
/// index.
pub fn insert_messages(
    conn: &mut DbConnection,
    rows: Vec<NewMessage>,
) -> QueryResult<Vec<Message>> {
    let mut stored = Vec::with_capacity(rows.len());
    match conn {
        DbConnection::Sqlite(c) => {
            for row in rows {
                stored.push(
                    diesel::insert_into(messages::table)
                        .values(row)
                        .returning(Message::as_returning())
                        .get_result(c)?,
                );
            }
            let ids = stored.iter().map(|m: &Message| m.id);
            if let (Some(first), Some(last)) = (ids.clone().min(), ids.max()) {
                index_for_search(c, first, last)?;
            }
        }
        DbConnection::Postgres(c) => {
            let mut rows = rows.into_iter().peekable();
            while rows.peek().is_some() {
                let chunk: Vec<NewMessage> = rows.by_ref().take(ROWS_PER_INSERT).collect();
                stored.extend(
                    diesel::insert_into(messages::table)
                        .values(chunk)
                        .returning(Message::as_returning())
                        .get_results(c)?,
                );
            }
        }
        // No RETURNING: each row is inserted and read back by its id.
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(_) => {
            for row in &rows {
                stored.push(insert_message(conn, row)?);
            }
        }
    }
    Ok(stored)
}

/// SQLite: adds the messages with ids `first..=last` to the full-text index, in one statement.
/// They are the caller's new rows, all of them: the writer holds the database's write lock, so
/// no other row gets an id in that range. (PostgreSQL and MariaDB index in the table itself.)
fn index_for_search(c: &mut diesel::SqliteConnection, first: i64, last: i64) -> QueryResult<()> {
    use diesel::sql_types::BigInt;
    super::prepared::Prepared::new(
        "INSERT INTO messages_fts(rowid, text) SELECT id, text FROM messages WHERE id BETWEEN ? AND ?",
    )
    .bind::<BigInt, _>(first)
    .bind::<BigInt, _>(last)
    .execute(c)
    .map(drop)
}

/// Sets a message's delivery status; returns rows changed.
pub fn set_delivery(
    conn: &mut DbConnection,
    id: i64,
    status: DeliveryStatus,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(messages::table.find(id))
        .set((
            messages::delivery_status.eq(status.as_str()),
            messages::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Our messages (not notes) to a contact on a channel, in any of their chats there, sent at or
/// before `watermark`, whose delivery status is one of `from`; by id.
pub fn outbound_to_contact_until(
    conn: &mut DbConnection,
    channel_id: i64,
    contact_id: i64,
    watermark: NaiveDateTime,
    from: &[DeliveryStatus],
) -> QueryResult<Vec<i64>> {
    messages::table
        .inner_join(chats::table.on(chats::id.eq(messages::chat_id)))
        .filter(chats::contact_id.eq(contact_id))
        .filter(messages::channel_id.eq(channel_id))
        .filter(messages::direction.eq(Direction::Outbound.as_str()))
        .filter(messages::is_private.eq(false))
        .filter(messages::sent_at.le(watermark))
        .filter(messages::delivery_status.eq_any(from.iter().map(|s| s.as_str())))
        .order(messages::id.asc())
        .select(messages::id)
        .load(conn)
}

/// Replaces a message's attachments JSON.
pub fn set_attachments(
    conn: &mut DbConnection,
    id: i64,
    attachments: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(messages::table.find(id))
        .set((
            messages::attachments.eq(attachments),
            messages::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Marks a message unsent by the customer.
pub fn mark_deleted(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(messages::table.find(id))
        .filter(messages::is_deleted.eq(false))
        .set((messages::is_deleted.eq(true), messages::updated_at.eq(now)))
        .execute(conn)
}

/// A chat's messages, newest first, older than `before` when given.
pub fn messages_page(
    conn: &mut DbConnection,
    chat_id: i64,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Message>> {
    let mut query = messages::table
        .filter(messages::chat_id.eq(chat_id))
        .order(messages::id.desc())
        .limit(limit)
        .select(Message::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(messages::id.lt(before));
    }
    query.load(conn)
}

/// The newest message id of a chat.
pub fn latest_message_id(conn: &mut DbConnection, chat_id: i64) -> QueryResult<Option<i64>> {
    messages::table
        .filter(messages::chat_id.eq(chat_id))
        .select(diesel::dsl::max(messages::id))
        .first(conn)
}

/// Deletes one message (an echo superseded by our own stored send).
pub fn delete_message(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(messages::table.find(id)).execute(conn)
}

/// Records the platform's id for our message whose text went out while the rest of it (its
/// files) did not yet.
pub fn set_external_id(conn: &mut DbConnection, id: i64, external_id: &str) -> QueryResult<()> {
    diesel::update(messages::table.find(id))
        .set(messages::external_id.eq(external_id))
        .execute(conn)
        .map(drop)
}

/// Records Meta's id for our message and marks it sent.
pub fn record_sent(
    conn: &mut DbConnection,
    id: i64,
    external_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(messages::table.find(id))
        .set((
            messages::external_id.eq(external_id),
            messages::delivery_status.eq(DeliveryStatus::Sent.as_str()),
            messages::delivery_error.eq(None::<String>),
            messages::delivery_attempts.eq(messages::delivery_attempts + 1),
            messages::next_attempt_at.eq(None::<NaiveDateTime>),
            messages::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Records a failed attempt that will be retried.
pub fn record_retry(
    conn: &mut DbConnection,
    id: i64,
    error: &str,
    next_attempt_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(messages::table.find(id))
        .set((
            messages::delivery_error.eq(error),
            messages::delivery_attempts.eq(messages::delivery_attempts + 1),
            messages::next_attempt_at.eq(next_attempt_at),
            messages::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Records a delivery that failed for good.
pub fn record_failure(
    conn: &mut DbConnection,
    id: i64,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(messages::table.find(id))
        .set((
            messages::delivery_status.eq(DeliveryStatus::Failed.as_str()),
            messages::delivery_error.eq(error),
            messages::delivery_attempts.eq(messages::delivery_attempts + 1),
            messages::next_attempt_at.eq(None::<NaiveDateTime>),
            messages::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Pending outbound messages of accounts that may send whose next attempt is due, oldest first.
pub fn due_deliveries(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(messages::delivery_status.eq(DeliveryStatus::Pending.as_str()))
        .filter(
            messages::next_attempt_at
                .is_null()
                .or(messages::next_attempt_at.le(now)),
        )
        .filter(messages::account_id.eq_any(super::accounts::sending()))
        .order(messages::id.asc())
        .limit(limit)
        .select(Message::as_select())
        .load(conn)
}

/// Leases a pending message for one attempt, so a second worker (another node) skips it.
/// True when this caller got the lease.
pub fn lease_delivery(
    conn: &mut DbConnection,
    id: i64,
    seen_next_attempt: Option<NaiveDateTime>,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    let target = messages::table
        .find(id)
        .filter(messages::delivery_status.eq(DeliveryStatus::Pending.as_str()));
    let changed = match seen_next_attempt {
        Some(at) => diesel::update(target.filter(messages::next_attempt_at.eq(at)))
            .set(messages::next_attempt_at.eq(lease_until))
            .execute(conn)?,
        None => diesel::update(target.filter(messages::next_attempt_at.is_null()))
            .set(messages::next_attempt_at.eq(lease_until))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

/// What a widget visitor sees of their conversation: every message of their chats that is not
/// an internal note, after `after`, oldest first.
pub fn visitor_messages(
    conn: &mut DbConnection,
    contact_id: i64,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<Message>> {
    messages::table
        .inner_join(chats::table.on(chats::id.eq(messages::chat_id)))
        .filter(chats::contact_id.eq(contact_id))
        .filter(messages::is_private.eq(false))
        .filter(messages::id.gt(after))
        .order(messages::id.asc())
        .limit(limit)
        .select(Message::as_select())
        .load(conn)
}

/// The newest `limit` public, not unsent messages of a chat, oldest first.
pub fn history(conn: &mut DbConnection, chat_id: i64, limit: i64) -> QueryResult<Vec<Message>> {
    let mut history: Vec<Message> = messages::table
        .filter(messages::chat_id.eq(chat_id))
        .filter(messages::is_private.eq(false))
        .filter(messages::is_deleted.eq(false))
        .order(messages::id.desc())
        .limit(limit)
        .select(Message::as_select())
        .load(conn)?;
    history.reverse();
    Ok(history)
}

/// Whether something already answered the customer's message `answers` (a bot or agent reply
/// after it).
pub fn answered_after(conn: &mut DbConnection, chat_id: i64, answers: i64) -> QueryResult<bool> {
    let later: i64 = messages::table
        .filter(messages::chat_id.eq(chat_id))
        .filter(messages::id.gt(answers))
        .filter(messages::direction.eq(Direction::Outbound.as_str()))
        .filter(messages::is_private.eq(false))
        .count()
        .get_result(conn)?;
    Ok(later > 0)
}

/// Records what an AI answer cost: model, tokens, provider latency.
pub fn record_ai_cost(
    conn: &mut DbConnection,
    message_id: i64,
    model: &str,
    prompt_tokens: i32,
    completion_tokens: i32,
    latency_ms: i32,
) -> QueryResult<()> {
    diesel::update(messages::table.find(message_id))
        .set((
            messages::ai_model.eq(model),
            messages::prompt_tokens.eq(prompt_tokens),
            messages::completion_tokens.eq(completion_tokens),
            messages::ai_latency_ms.eq(latency_ms),
        ))
        .execute(conn)
        .map(|_| ())
}
