//! Chats: opening, status, assignment and the listings agents work from.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::contacts::Contact;
use super::labels::Label;
use super::messages::Message;
use super::schema::{channels, chat_labels, chat_reads, chats, contact_labels, contacts, messages};
use crate::model::{ChatStatus, Direction};

pub use crate::model::Chat;

/// The contact's most recent chat on a channel.
pub fn latest_for_contact(
    conn: &mut DbConnection,
    channel_id: i64,
    contact_id: i64,
) -> QueryResult<Option<Chat>> {
    crate::on_backend!(conn, |c| chats::table
        .filter(chats::channel_id.eq(channel_id))
        .filter(chats::contact_id.eq(contact_id))
        .order(chats::id.desc())
        .select(Chat::as_select())
        .first(c)
        .optional())
}

/// The most recent chat of each of the given contacts, by (channel, contact): two queries for
/// all of a group's messages, which read only those chats however many a contact has had.
/// The newest ids come first and the chats by id after, so each step is an index lookup: as
/// one statement (`id IN (subquery)`), PostgreSQL joined the ids against a scan of every chat.
pub fn latest_for_contacts(
    conn: &mut DbConnection,
    contact_ids: &[i64],
) -> QueryResult<HashMap<(i64, i64), Chat>> {
    if let DbConnection::Sqlite(c) = conn {
        // No round trips to save: one prepared lookup run for each contact, where a query
        // over all of them would be prepared again for every group. A contact belongs to one
        // channel, and so does each of its chats.
        let mut latest = HashMap::with_capacity(contact_ids.len());
        for contact in contact_ids {
            let chat = chats::table
                .filter(chats::contact_id.eq(contact))
                .order(chats::id.desc())
                .select(Chat::as_select())
                .first(c)
                .optional()?;
            if let Some(chat) = chat {
                latest.insert((chat.channel_id, chat.contact_id), chat);
            }
        }
        return Ok(latest);
    }
    let newest = chats::table
        .filter(chats::contact_id.eq_any(contact_ids))
        .group_by((chats::contact_id, chats::channel_id))
        .select(diesel::dsl::max(chats::id).assume_not_null());
    let ids: Vec<i64> = crate::on_backend!(&mut *conn, |c| newest.load(c))?;
    let chats: Vec<Chat> = crate::on_backend!(conn, |c| chats::table
        .filter(chats::id.eq_any(&ids))
        .select(Chat::as_select())
        .load(c))?;
    Ok(chats
        .into_iter()
        .map(|chat| ((chat.channel_id, chat.contact_id), chat))
        .collect())
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

/// A contact's chats in the account.
pub fn of_contact(
    conn: &mut DbConnection,
    account_id: i64,
    contact_id: i64,
) -> QueryResult<Vec<Chat>> {
    chats::table
        .filter(chats::account_id.eq(account_id))
        .filter(chats::contact_id.eq(contact_id))
        .order(chats::id)
        .select(Chat::as_select())
        .load(conn)
}

/// The account's chats that show a label, on themselves or on their contact.
pub fn showing_label(
    conn: &mut DbConnection,
    account_id: i64,
    label_id: i64,
) -> QueryResult<Vec<Chat>> {
    let on_chat = chat_labels::table
        .filter(chat_labels::label_id.eq(label_id))
        .select(chat_labels::chat_id);
    let on_contact = contact_labels::table
        .filter(contact_labels::label_id.eq(label_id))
        .select(contact_labels::contact_id);
    chats::table
        .filter(chats::account_id.eq(account_id))
        .filter(
            chats::id
                .eq_any(on_chat)
                .or(chats::contact_id.eq_any(on_contact)),
        )
        .order(chats::id)
        .select(Chat::as_select())
        .load(conn)
}

/// The contact of each of the given chats, as (chat, contact).
pub fn contacts_of(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<(i64, i64)>> {
    chats::table
        .filter(chats::id.eq_any(ids))
        .select((chats::id, chats::contact_id))
        .load(conn)
}

/// One chat of an account.
pub fn find(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<Chat> {
    crate::on_backend!(conn, |c| chats::table
        .filter(chats::account_id.eq(account_id))
        .filter(chats::id.eq(id))
        .select(Chat::as_select())
        .first(c))
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
    let now = Utc::now().naive_utc();
    if inbound {
        let update = diesel::update(chats::table.find(id)).set((
            chats::last_message_at.eq(at),
            chats::last_inbound_at.eq(at),
            chats::updated_at.eq(now),
        ));
        crate::on_backend!(conn, |c| update.execute(c))
    } else {
        let update = diesel::update(chats::table.find(id))
            .set((chats::last_message_at.eq(at), chats::updated_at.eq(now)));
        crate::on_backend!(conn, |c| update.execute(c))
    }
}

/// The times a group's new messages leave on their chat: the newest message, and the newest
/// from the customer, if any.
#[derive(Debug, Clone, Copy)]
pub struct Touch {
    /// The newest message's time.
    pub last_message_at: NaiveDateTime,
    /// The newest customer message's time, if the group has one.
    pub last_inbound_at: Option<NaiveDateTime>,
}

/// Records new messages' times on their chats, by chat id, in id order (the one lock order for
/// every writer): on PostgreSQL one statement for all of them; on SQLite, where a statement
/// costs no round trip, one prepared update run for each chat.
pub fn touch_many(conn: &mut DbConnection, touches: &BTreeMap<i64, Touch>) -> QueryResult<()> {
    use diesel::sql_types::{Array, BigInt, Nullable, Timestamp};

    use super::prepared::Prepared;
    if touches.is_empty() {
        return Ok(());
    }
    let now = Utc::now().naive_utc();
    match conn {
        DbConnection::Postgres(c) => {
            let ids: Vec<i64> = touches.keys().copied().collect();
            let messages: Vec<NaiveDateTime> =
                touches.values().map(|t| t.last_message_at).collect();
            let inbound: Vec<Option<NaiveDateTime>> =
                touches.values().map(|t| t.last_inbound_at).collect();
            let expected = ids.len();
            let touched = diesel::sql_query(
                "UPDATE chats SET last_message_at = v.message_at, \
                 last_inbound_at = COALESCE(v.inbound_at, chats.last_inbound_at), updated_at = $1 \
                 FROM unnest($2::int8[], $3::timestamp[], $4::timestamp[]) AS v(id, message_at, inbound_at) \
                 WHERE chats.id = v.id AND chats.status <> $5",
            )
            .bind::<Timestamp, _>(now)
            .bind::<Array<BigInt>, _>(ids)
            .bind::<Array<Timestamp>, _>(messages)
            .bind::<Array<Nullable<Timestamp>>, _>(inbound)
            .bind::<diesel::sql_types::Text, _>(ChatStatus::Resolved.as_str())
            .execute(c)?;
            if touched != expected {
                // Another writer resolved one of these chats after the group read it, before
                // the group took its lock: the group runs again and reopens it.
                return Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::SerializationFailure,
                    Box::new("a chat of the group was resolved meanwhile".to_string()),
                ));
            }
        }
        DbConnection::Sqlite(c) => {
            for (id, touch) in touches {
                // OR FAIL: a failing constraint would stop the statement without undoing the
                // row it changed, so SQLite keeps no statement journal for it; any error rolls
                // the writer's whole transaction back anyway.
                Prepared::new(
                    "UPDATE OR FAIL chats SET last_message_at = ?, \
                     last_inbound_at = COALESCE(?, last_inbound_at), updated_at = ? WHERE id = ?",
                )
                .bind::<Timestamp, _>(touch.last_message_at)
                .bind::<Nullable<Timestamp>, _>(touch.last_inbound_at)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(*id)
                .execute(c)?;
            }
        }
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(_) => {
            for (id, touch) in touches {
                if let Some(at) = touch.last_inbound_at {
                    self::touch(conn, *id, at, true)?;
                }
                self::touch(conn, *id, touch.last_message_at, false)?;
            }
        }
    }
    Ok(())
}

/// Records when a chat was resolved.
pub fn set_resolved_at(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(chats::table.find(id))
        .set(chats::resolved_at.eq(now))
        .execute(conn)
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
    /// Only chats carrying this label.
    pub label_id: Option<i64>,
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
    if let Some(label) = filter.label_id {
        query = query.filter(
            chats::id.eq_any(
                chat_labels::table
                    .filter(chat_labels::label_id.eq(label))
                    .select(chat_labels::chat_id),
            ),
        );
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
    /// Its labels, by name.
    pub labels: Vec<Label>,
    /// Its customer's labels, by name.
    pub contact_labels: Vec<Label>,
}

/// The listings of `chats` for `user_id`, in their order: seven queries, whatever their number.
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
    let mut chat_labels: HashMap<i64, Vec<Label>> = HashMap::new();
    for (chat, label) in super::labels::of_chats(conn, &chat_ids)? {
        chat_labels.entry(chat).or_default().push(label);
    }
    let mut contact_labels: HashMap<i64, Vec<Label>> = HashMap::new();
    for (contact, label) in super::labels::of_contacts(conn, &contact_ids)? {
        contact_labels.entry(contact).or_default().push(label);
    }
    chats
        .into_iter()
        .map(|chat| {
            Ok(ChatListing {
                labels: chat_labels.remove(&chat.id).unwrap_or_default(),
                contact_labels: contact_labels
                    .get(&chat.contact_id)
                    .cloned()
                    .unwrap_or_default(),
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
