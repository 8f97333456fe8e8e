//! Chats and their messages: the conversation store the writer fills and the API reads.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::connection::DbConnection;
use super::schema::{channels, chat_reads, chats, contacts, messages};
use crate::model::{ChatStatus, DeliveryStatus, Direction};

/// A chat as stored.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = chats)]
pub struct Chat {
    /// Primary key.
    pub id: i64,
    /// Owning account.
    #[serde(skip)]
    pub account_id: i64,
    /// The channel it runs on.
    pub channel_id: i64,
    /// The customer.
    pub contact_id: i64,
    /// Where it stands.
    #[diesel(deserialize_as = String)]
    pub status: ChatStatus,
    /// The agent it is assigned to.
    pub assignee_id: Option<i64>,
    /// Latest message (UTC).
    #[serde(serialize_with = "utc_opt")]
    pub last_message_at: Option<NaiveDateTime>,
    /// Latest customer message (UTC).
    #[serde(serialize_with = "utc_opt")]
    pub last_inbound_at: Option<NaiveDateTime>,
    /// Created (UTC).
    #[serde(serialize_with = "utc")]
    pub created_at: NaiveDateTime,
    /// Last changed (UTC).
    #[serde(serialize_with = "utc")]
    pub updated_at: NaiveDateTime,
    /// When it was last resolved.
    #[serde(serialize_with = "utc_opt")]
    pub resolved_at: Option<NaiveDateTime>,
}

/// A message as stored.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = messages)]
pub struct Message {
    /// Primary key.
    pub id: i64,
    /// Owning account.
    #[serde(skip)]
    pub account_id: i64,
    /// Its chat.
    pub chat_id: i64,
    /// Its channel.
    pub channel_id: i64,
    /// From the customer, or to them.
    #[diesel(deserialize_as = String)]
    pub direction: Direction,
    /// `contact`, `agent`, `bot`, `system` or `page` (sent from Meta's own inbox).
    pub sender_kind: String,
    /// The agent who sent it.
    pub sender_id: Option<i64>,
    /// The channel's message id.
    pub external_id: Option<String>,
    /// Text.
    pub text: Option<String>,
    /// Attachments, JSON text.
    #[serde(serialize_with = "json_text")]
    pub attachments: Option<String>,
    /// The message id this one replies to.
    pub reply_to: Option<String>,
    /// An internal note, never sent to the customer.
    #[serde(rename = "private")]
    pub is_private: bool,
    /// Unsent by the customer.
    #[serde(rename = "deleted")]
    pub is_deleted: bool,
    /// How far it got.
    #[diesel(deserialize_as = String)]
    pub delivery_status: DeliveryStatus,
    /// Why delivery failed.
    pub delivery_error: Option<String>,
    /// Delivery tries so far.
    #[serde(skip)]
    pub delivery_attempts: i32,
    /// When the next delivery try is due.
    #[serde(skip)]
    pub next_attempt_at: Option<NaiveDateTime>,
    /// Model of a bot answer.
    pub ai_model: Option<String>,
    /// Prompt tokens of a bot answer.
    pub prompt_tokens: Option<i32>,
    /// Completion tokens of a bot answer.
    pub completion_tokens: Option<i32>,
    /// Provider latency of a bot answer.
    pub ai_latency_ms: Option<i32>,
    /// When it was sent (UTC).
    #[serde(serialize_with = "utc")]
    pub sent_at: NaiveDateTime,
    /// Stored (UTC).
    #[serde(serialize_with = "utc")]
    pub created_at: NaiveDateTime,
    /// Last changed (UTC).
    #[serde(serialize_with = "utc")]
    pub updated_at: NaiveDateTime,
    /// Reactions on the message, `[{"emoji", "by"}]` (empty when none).
    #[serde(serialize_with = "json_list")]
    pub reactions: Option<String>,
}

/// Serialises a UTC timestamp as RFC 3339 with its offset (`Z`), in milliseconds.
pub fn utc<S: serde::Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(
        &t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

fn utc_opt<S: serde::Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => utc(t, s),
        None => s.serialize_none(),
    }
}

fn json_text<S: serde::Serializer>(t: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    let value = t
        .as_deref()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
    value.serialize(s)
}

fn json_list<S: serde::Serializer>(t: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    let value = t
        .as_deref()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .unwrap_or_else(|| serde_json::Value::Array(Vec::new()));
    value.serialize(s)
}

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

/// The contact id for a customer on a channel, created when new.
pub fn upsert_contact(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    external_id: &str,
) -> QueryResult<i64> {
    let existing = contacts::table
        .filter(contacts::channel_id.eq(channel_id))
        .filter(contacts::external_id.eq(external_id))
        .select(contacts::id)
        .first::<i64>(conn)
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let now = Utc::now().naive_utc();
    crate::insert_returning_id!(
        conn,
        crate::store::schema::contacts,
        (
            contacts::account_id.eq(account_id),
            contacts::channel_id.eq(channel_id),
            contacts::external_id.eq(external_id),
            contacts::created_at.eq(now),
            contacts::updated_at.eq(now),
        )
    )
}

/// The contact's most recent chat on a channel.
pub fn latest_for_contact(
    conn: &mut DbConnection,
    channel_id: i64,
    contact_id: i64,
) -> QueryResult<Option<Chat>> {
    chats::table
        .filter(chats::channel_id.eq(channel_id))
        .filter(chats::contact_id.eq(contact_id))
        .order(chats::id.desc())
        .select(Chat::as_select())
        .first(conn)
        .optional()
}

/// Creates a chat; returns it.
pub fn create(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    contact_id: i64,
    status: ChatStatus,
    now: NaiveDateTime,
) -> QueryResult<Chat> {
    let id = crate::insert_returning_id!(
        conn,
        crate::store::schema::chats,
        (
            chats::account_id.eq(account_id),
            chats::channel_id.eq(channel_id),
            chats::contact_id.eq(contact_id),
            chats::status.eq(status.as_str()),
            chats::created_at.eq(now),
            chats::updated_at.eq(now),
        )
    )?;
    find(conn, account_id, id)
}

/// One chat of an account.
pub fn find(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<Chat> {
    chats::table
        .filter(chats::account_id.eq(account_id))
        .filter(chats::id.eq(id))
        .select(Chat::as_select())
        .first(conn)
}

/// Sets a chat's status.
pub fn set_status(
    conn: &mut DbConnection,
    id: i64,
    status: ChatStatus,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(chats::table.find(id))
        .set((chats::status.eq(status.as_str()), chats::updated_at.eq(now)))
        .execute(conn)
}

/// Records a new message's time on its chat.
pub fn touch(
    conn: &mut DbConnection,
    id: i64,
    at: NaiveDateTime,
    inbound: bool,
) -> QueryResult<usize> {
    if inbound {
        diesel::update(chats::table.find(id))
            .set((
                chats::last_message_at.eq(at),
                chats::last_inbound_at.eq(at),
                chats::updated_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)
    } else {
        diesel::update(chats::table.find(id))
            .set((
                chats::last_message_at.eq(at),
                chats::updated_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)
    }
}

/// A message by its channel id, if stored.
pub fn message_by_external(
    conn: &mut DbConnection,
    channel_id: i64,
    external_id: &str,
) -> QueryResult<Option<Message>> {
    messages::table
        .filter(messages::channel_id.eq(channel_id))
        .filter(messages::external_id.eq(external_id))
        .select(Message::as_select())
        .first(conn)
        .optional()
}

/// One message by id.
pub fn message(conn: &mut DbConnection, id: i64) -> QueryResult<Message> {
    messages::table
        .find(id)
        .select(Message::as_select())
        .first(conn)
}

/// The fields of a new message.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = messages)]
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

/// Stores a message; returns it.
pub fn insert_message(conn: &mut DbConnection, new: &NewMessage) -> QueryResult<Message> {
    let id = crate::insert_returning_id!(conn, crate::store::schema::messages, new.clone())?;
    message(conn, id)
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

/// Outbound messages of a chat sent at or before `watermark` and not yet read.
pub fn unread_outbound_until(
    conn: &mut DbConnection,
    chat_id: i64,
    watermark: NaiveDateTime,
) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(messages::chat_id.eq(chat_id))
        .filter(messages::direction.eq(Direction::Outbound.as_str()))
        .filter(messages::is_private.eq(false))
        .filter(messages::sent_at.le(watermark))
        .filter(messages::delivery_status.ne(DeliveryStatus::Read.as_str()))
        .filter(messages::delivery_status.ne(DeliveryStatus::Failed.as_str()))
        .order(messages::id.asc())
        .select(Message::as_select())
        .load(conn)
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

/// Records when a chat was resolved.
pub fn set_resolved_at(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(chats::table.find(id))
        .set(chats::resolved_at.eq(now))
        .execute(conn)
}

/// Moves a user's read marker forward (never back); true when it moved.
pub fn mark_read(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    user_id: i64,
    message_id: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let current = chat_reads::table
        .filter(chat_reads::chat_id.eq(chat_id))
        .filter(chat_reads::user_id.eq(user_id))
        .select(chat_reads::last_read_message_id)
        .first::<i64>(conn)
        .optional()?;
    match current {
        Some(last) if last >= message_id => Ok(false),
        Some(_) => diesel::update(chat_reads::table.find((chat_id, user_id)))
            .set((
                chat_reads::last_read_message_id.eq(message_id),
                chat_reads::read_at.eq(now),
            ))
            .execute(conn)
            .map(|_| true),
        None => diesel::insert_into(chat_reads::table)
            .values((
                chat_reads::chat_id.eq(chat_id),
                chat_reads::user_id.eq(user_id),
                chat_reads::account_id.eq(account_id),
                chat_reads::last_read_message_id.eq(message_id),
                chat_reads::read_at.eq(now),
            ))
            .execute(conn)
            .map(|_| true),
    }
}

/// The newest message id of a chat.
pub fn latest_message_id(conn: &mut DbConnection, chat_id: i64) -> QueryResult<Option<i64>> {
    messages::table
        .filter(messages::chat_id.eq(chat_id))
        .select(diesel::dsl::max(messages::id))
        .first(conn)
}

/// Customer messages of a chat the user has not read.
pub fn unread_count(conn: &mut DbConnection, chat_id: i64, user_id: i64) -> QueryResult<i64> {
    let last_read = chat_reads::table
        .filter(chat_reads::chat_id.eq(chat_id))
        .filter(chat_reads::user_id.eq(user_id))
        .select(chat_reads::last_read_message_id)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0);
    messages::table
        .filter(messages::chat_id.eq(chat_id))
        .filter(messages::direction.eq(Direction::Inbound.as_str()))
        .filter(messages::id.gt(last_read))
        .count()
        .get_result(conn)
}

/// A chat's customer.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = contacts)]
pub struct Contact {
    /// Id.
    pub id: i64,
    /// The customer's id on the channel.
    pub external_id: String,
    /// Name, when known.
    pub name: Option<String>,
    /// Email, when known.
    pub email: Option<String>,
    /// Phone, when known.
    pub phone: Option<String>,
}

/// One contact.
pub fn contact(conn: &mut DbConnection, id: i64) -> QueryResult<Contact> {
    contacts::table
        .find(id)
        .select(Contact::as_select())
        .first(conn)
}

/// Which chats a listing wants.
#[derive(Debug, Clone, Default)]
pub struct ChatFilter {
    /// Only chats in this status.
    pub status: Option<String>,
    /// `Some(Some(id))`: assigned to id; `Some(None)`: unassigned.
    pub assignee: Option<Option<i64>>,
    /// Agents: only their own chats and the unassigned queue.
    pub visible_to_agent: Option<i64>,
    /// Keyset cursor: chats strictly after (last_message_at, id) in the order.
    pub after: Option<(NaiveDateTime, i64)>,
    /// Only chats on this channel.
    pub channel_id: Option<i64>,
}

/// A page of an account's chats, most recent activity first.
pub fn page(
    conn: &mut DbConnection,
    account_id: i64,
    filter: &ChatFilter,
    limit: i64,
) -> QueryResult<Vec<Chat>> {
    let mut query = chats::table
        .filter(chats::account_id.eq(account_id))
        .filter(chats::last_message_at.is_not_null())
        .into_boxed();
    if let Some(status) = &filter.status {
        query = query.filter(chats::status.eq(status.clone()));
    }
    match filter.assignee {
        Some(Some(id)) => query = query.filter(chats::assignee_id.eq(id)),
        Some(None) => query = query.filter(chats::assignee_id.is_null()),
        None => {}
    }
    if let Some(me) = filter.visible_to_agent {
        query = query.filter(chats::assignee_id.eq(me).or(chats::assignee_id.is_null()));
    }
    if let Some(channel) = filter.channel_id {
        query = query.filter(chats::channel_id.eq(channel));
    }
    if let Some((at, id)) = filter.after {
        query = query.filter(
            chats::last_message_at
                .lt(at)
                .or(chats::last_message_at.eq(at).and(chats::id.lt(id))),
        );
    }
    query
        .order((chats::last_message_at.desc(), chats::id.desc()))
        .limit(limit)
        .select(Chat::as_select())
        .load(conn)
}

/// How many chats wait in the account's queue (open, unassigned), and since when the oldest.
pub fn queue(
    conn: &mut DbConnection,
    account_id: i64,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let waiting = chats::table
        .filter(chats::account_id.eq(account_id))
        .filter(chats::assignee_id.is_null())
        .filter(chats::status.eq(ChatStatus::Open.as_str()));
    let size = waiting.count().get_result(conn)?;
    let oldest = waiting
        .select(diesel::dsl::min(chats::last_inbound_at))
        .first::<Option<NaiveDateTime>>(conn)?;
    Ok((size, oldest))
}

/// Open chats per assignee in an account.
pub fn open_counts(conn: &mut DbConnection, account_id: i64) -> QueryResult<Vec<(i64, i64)>> {
    chats::table
        .filter(chats::account_id.eq(account_id))
        .filter(chats::status.eq(ChatStatus::Open.as_str()))
        .filter(chats::assignee_id.is_not_null())
        .group_by(chats::assignee_id)
        .select((
            chats::assignee_id.assume_not_null(),
            diesel::dsl::count_star(),
        ))
        .load(conn)
}

/// Deletes one message (an echo superseded by our own stored send).
pub fn delete_message(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(messages::table.find(id)).execute(conn)
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

/// Pending outbound messages whose next attempt is due, oldest first.
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

/// Gives a chat to a user, or back to the queue.
pub fn set_assignee(
    conn: &mut DbConnection,
    id: i64,
    assignee: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(chats::table.find(id))
        .set((chats::assignee_id.eq(assignee), chats::updated_at.eq(now)))
        .execute(conn)
}

/// A chat as a listing shows it: with its customer, its channel, its newest message and the
/// reader's unread count.
#[derive(Debug, Clone)]
pub struct ChatListing {
    /// The chat.
    pub chat: Chat,
    /// Its customer.
    pub contact: Contact,
    /// Its channel: id, kind, name.
    pub channel: (i64, String, String),
    /// Its newest message.
    pub last_message: Option<Message>,
    /// Customer messages `user_id` has not read.
    pub unread_count: i64,
}

/// The listings of `chats` for `user_id`, in their order: five queries, whatever their number.
pub fn listings(
    conn: &mut DbConnection,
    chats: Vec<Chat>,
    user_id: i64,
) -> QueryResult<Vec<ChatListing>> {
    use std::collections::HashMap;
    if chats.is_empty() {
        return Ok(Vec::new());
    }
    let chat_ids: Vec<i64> = chats.iter().map(|c| c.id).collect();
    let contact_ids: Vec<i64> = chats.iter().map(|c| c.contact_id).collect();
    let channel_ids: Vec<i64> = chats.iter().map(|c| c.channel_id).collect();
    let contacts: HashMap<i64, Contact> = contacts::table
        .filter(contacts::id.eq_any(&contact_ids))
        .select(Contact::as_select())
        .load(conn)?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let channels: HashMap<i64, (i64, String, String)> = channels::table
        .filter(channels::id.eq_any(&channel_ids))
        .select((channels::id, channels::kind, channels::name))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|c| (c.0, c))
        .collect();
    let newest: Vec<i64> = messages::table
        .filter(messages::chat_id.eq_any(&chat_ids))
        .group_by(messages::chat_id)
        .select(diesel::dsl::max(messages::id))
        .load::<Option<i64>>(conn)?
        .into_iter()
        .flatten()
        .collect();
    let mut last_messages: HashMap<i64, Message> = messages::table
        .filter(messages::id.eq_any(&newest))
        .select(Message::as_select())
        .load(conn)?
        .into_iter()
        .map(|m| (m.chat_id, m))
        .collect();
    let last_read = chat_reads::last_read_message_id.nullable();
    let unread: HashMap<i64, i64> = messages::table
        .left_join(
            chat_reads::table.on(chat_reads::chat_id
                .eq(messages::chat_id)
                .and(chat_reads::user_id.eq(user_id))),
        )
        .filter(messages::chat_id.eq_any(&chat_ids))
        .filter(messages::direction.eq(Direction::Inbound.as_str()))
        .filter(
            last_read
                .is_null()
                .or(messages::id.nullable().gt(last_read)),
        )
        .group_by(messages::chat_id)
        .select((messages::chat_id, diesel::dsl::count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    chats
        .into_iter()
        .map(|chat| {
            Ok(ChatListing {
                contact: contacts
                    .get(&chat.contact_id)
                    .cloned()
                    .ok_or(diesel::result::Error::NotFound)?,
                channel: channels
                    .get(&chat.channel_id)
                    .cloned()
                    .ok_or(diesel::result::Error::NotFound)?,
                last_message: last_messages.remove(&chat.id),
                unread_count: unread.get(&chat.id).copied().unwrap_or(0),
                chat,
            })
        })
        .collect()
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

/// Sets what a widget visitor told about themselves.
pub fn set_contact_details(
    conn: &mut DbConnection,
    contact_id: i64,
    name: Option<String>,
    email: Option<String>,
) -> QueryResult<()> {
    diesel::update(contacts::table.find(contact_id))
        .set((contacts::name.eq(name), contacts::email.eq(email)))
        .execute(conn)
        .map(|_| ())
}

/// Chats in `bot` state on an AI channel whose newest public message is the customer's: each
/// is owed an answer (chat id, account id).
pub fn bot_chats_awaiting_answer(conn: &mut DbConnection) -> QueryResult<Vec<(i64, i64)>> {
    let bot_chats: Vec<(i64, i64)> = chats::table
        .inner_join(channels::table.on(channels::id.eq(chats::channel_id)))
        .filter(chats::status.eq(ChatStatus::Bot.as_str()))
        .filter(channels::ai_enabled.eq(true))
        .select((chats::id, chats::account_id))
        .load(conn)?;
    let mut waiting = Vec::new();
    for (chat_id, account_id) in bot_chats {
        let last: Option<String> = messages::table
            .filter(messages::chat_id.eq(chat_id))
            .filter(messages::is_private.eq(false))
            .order(messages::id.desc())
            .select(messages::direction)
            .first(conn)
            .optional()?;
        if last.as_deref() == Some(Direction::Inbound.as_str()) {
            waiting.push((chat_id, account_id));
        }
    }
    Ok(waiting)
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

/// The contact with this id on a channel, if any.
pub fn contact_by_external(
    conn: &mut DbConnection,
    channel_id: i64,
    external_id: &str,
) -> QueryResult<Option<i64>> {
    contacts::table
        .filter(contacts::channel_id.eq(channel_id))
        .filter(contacts::external_id.eq(external_id))
        .select(contacts::id)
        .first::<i64>(conn)
        .optional()
}

/// Fills in what a lead told of the contact: a known name stays, a new email or phone wins.
pub fn fill_contact_from_lead(
    conn: &mut DbConnection,
    contact_id: i64,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let contact = contact(conn, contact_id)?;
    diesel::update(contacts::table.find(contact_id))
        .set((
            contacts::name.eq(contact.name.or(name)),
            contacts::email.eq(email.or(contact.email)),
            contacts::phone.eq(phone.or(contact.phone)),
            contacts::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}
