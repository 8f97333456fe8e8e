//! Customers write: a message or postback through a channel (once per channel message id),
//! opening a chat or reopening a resolved one; echoes, receipts, reactions and unsends.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::QueryResult;

use super::lock::GroupLock;
use super::record::Recorder;
use super::rule::{Rule, Ruled};
use crate::model::{
    ChatStatus, Deleted, Delivered, DeliveryStatus, Direction, EventData, InboundMessage, OpenChat,
    Outcome, Reaction, Read, Refusal,
};
use crate::store::chats;
use crate::store::connection::DbConnection;
use crate::store::media::MediaRow;
use crate::store::messages::{Message, NewMessage};

/// The contact's chat, given its latest one: opened when new and reopened when resolved.
fn chat_for(
    conn: &mut DbConnection,
    rec: &mut Recorder,
    m: &InboundMessage,
    contact_id: i64,
    latest: Option<chats::Chat>,
) -> QueryResult<chats::Chat> {
    match latest {
        Some(chat) if chat.status == ChatStatus::Resolved => {
            chats::set_status(conn, chat.id, ChatStatus::Open, rec.now.naive_utc())?;
            let chat = chats::find(conn, m.account_id.0, chat.id)?;
            rec.chat_changed(&chat);
            Ok(chat)
        }
        Some(chat) => Ok(chat),
        None => open_chat(conn, rec, m.account_id.0, m.channel_id.0, contact_id),
    }
}

/// A new chat for the contact: with the bot when the channel's AI answers, else open.
fn open_chat(
    conn: &mut DbConnection,
    rec: &mut Recorder,
    account_id: i64,
    channel_id: i64,
    contact_id: i64,
) -> QueryResult<chats::Chat> {
    let status = if crate::store::channels::ai_enabled(conn, channel_id)? {
        ChatStatus::Bot
    } else {
        ChatStatus::Open
    };
    let now = rec.now.naive_utc();
    let chat = chats::create(conn, account_id, channel_id, contact_id, status, now)?;
    rec.emit(
        account_id,
        Some(&chat),
        EventData::ChatCreated(chat.clone()),
    );
    Ok(chat)
}

/// A visitor who attaches a file before writing gets their chat now, as their first message
/// would open it; a visitor with a chat keeps it (a resolved one reopens with their message).
impl Rule for OpenChat {
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let (account_id, channel_id) = (self.account_id.0, self.channel_id.0);
        let Some(contact_id) = crate::store::contacts::contact_by_external(
            conn,
            channel_id,
            &self.contact_external_id,
        )?
        else {
            return Ok(());
        };
        if chats::latest_for_contact(conn, channel_id, contact_id)?.is_none() {
            open_chat(conn, rec, account_id, channel_id, contact_id)?;
        }
        Ok(())
    }
}

/// What becomes of one message of a run.
enum Pending {
    /// Stored before: nothing to do.
    Stored,
    /// Refused before anything was written for it.
    Refused(Refusal),
    /// New: its recorder, its chat, and the uploads it carries.
    New(Recorder, chats::Chat, Vec<i64>),
}

/// Who wrote a message that arrived through a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Author {
    /// The customer.
    Customer,
    /// Our page, from Meta's own inbox (an echo we did not send through Switchboard).
    Page,
}

/// What the group already holds for its channel messages, read with one query each: the
/// message ids stored, the contacts, and each contact's latest chat. Kept up to date as the
/// run goes, so a later message of the same customer sees what an earlier one created.
struct Known {
    stored: HashSet<(i64, String)>,
    contacts: HashMap<(i64, String), i64>,
    chats: HashMap<(i64, i64), chats::Chat>,
}

/// The echoes in the run of files we sent as parts of a reply (a reply's text and files go
/// out as several platform messages; the reply keeps the first one's id, each file its own).
fn echoes_of_our_files(
    conn: &mut DbConnection,
    run: &[(&InboundMessage, Author)],
) -> QueryResult<Vec<(i64, String)>> {
    let echoes: Vec<&str> = run
        .iter()
        .filter(|(m, author)| *author == Author::Page && m.attachments.is_some())
        .map(|(m, _)| m.external_id.as_str())
        .collect();
    if echoes.is_empty() {
        return Ok(Vec::new());
    }
    let ours = crate::store::media::sent_mids(conn, &echoes)?;
    Ok(run
        .iter()
        .filter(|(m, _)| ours.contains(&m.external_id))
        .map(|(m, _)| (m.channel_id.0, m.external_id.clone()))
        .collect())
}

impl Known {
    fn read(conn: &mut DbConnection, run: &[(&InboundMessage, Author)]) -> QueryResult<Self> {
        let mids: Vec<(i64, &str)> = run
            .iter()
            .map(|(m, _)| (m.channel_id.0, m.external_id.as_str()))
            .collect();
        let mut stored = crate::store::messages::stored_external_ids(conn, &mids)?;
        stored.extend(echoes_of_our_files(conn, run)?);
        let customers: Vec<(i64, &str)> = run
            .iter()
            .map(|(m, _)| (m.channel_id.0, m.contact_external_id.as_str()))
            .collect();
        let contacts: HashMap<(i64, String), i64> =
            crate::store::contacts::contact_ids(conn, &customers)?
                .into_iter()
                .map(|(channel, customer, id)| ((channel, customer), id))
                .collect();
        let contact_ids: Vec<i64> = contacts.values().copied().collect();
        let chats = chats::latest_for_contacts(conn, &contact_ids)?;
        Ok(Self {
            stored: stored.into_iter().collect(),
            contacts,
            chats,
        })
    }

    /// The uploads a visitor's message carries, from the chat it goes to (the visitor's
    /// latest); a file claimed by an earlier message of the run is not sendable any more.
    fn uploads(
        &self,
        conn: &mut DbConnection,
        m: &InboundMessage,
        claimed: &mut HashSet<i64>,
    ) -> QueryResult<Result<Vec<MediaRow>, Refusal>> {
        let Some(uploads) = &m.uploads else {
            return Ok(Ok(Vec::new()));
        };
        let chat = self
            .contacts
            .get(&(m.channel_id.0, m.contact_external_id.clone()))
            .and_then(|contact| self.chats.get(&(m.channel_id.0, *contact)))
            .map(|chat| chat.id);
        super::media::for_visitor(conn, m.account_id.0, chat, uploads, claimed)
    }

    /// Whether a new message of the run adds a contact, or opens or reopens a chat.
    fn opens_anything(&self, run: &[(&InboundMessage, Author)]) -> bool {
        run.iter().any(|(m, _)| {
            if self
                .stored
                .contains(&(m.channel_id.0, m.external_id.clone()))
            {
                return false;
            }
            let customer = (m.channel_id.0, m.contact_external_id.clone());
            let Some(contact) = self.contacts.get(&customer) else {
                return true;
            };
            self.chats
                .get(&(m.channel_id.0, *contact))
                .is_none_or(|chat| chat.status == ChatStatus::Resolved)
        })
    }
}

/// Stores messages that arrived through channels, once per channel message id: a run of a
/// group's consecutive channel messages, with a few statements for all of them (the stored
/// ids, the contacts and their chats are read once; the messages go in with one insert; each
/// chat is touched once). Each command's outcome is what it would be on its own, in order.
pub(super) fn channel_messages(
    conn: &mut DbConnection,
    run: &[(&InboundMessage, Author)],
    lock: &mut GroupLock<'_>,
) -> QueryResult<Vec<Outcome>> {
    let mut known = Known::read(conn, run)?;
    if !lock.is_held() && known.opens_anything(run) {
        // Two groups must not both open a chat (or add a contact) for one customer: read again
        // under the lock, after any group that held it before.
        lock.hold(conn)?;
        known = Known::read(conn, run)?;
    }
    let mut pending: Vec<Pending> = Vec::with_capacity(run.len());
    let mut rows = Vec::with_capacity(run.len());
    let mut claimed = HashSet::new();
    for (m, author) in run {
        if !known.stored.insert((m.channel_id.0, m.external_id.clone())) {
            // A redelivery, or the echo of a send we already stored.
            pending.push(Pending::Stored);
            continue;
        }
        let files = match known.uploads(conn, m, &mut claimed)? {
            Ok(files) => files,
            Err(refusal) => {
                known
                    .stored
                    .remove(&(m.channel_id.0, m.external_id.clone()));
                pending.push(Pending::Refused(refusal));
                continue;
            }
        };
        let mut rec = Recorder::new();
        let customer = (m.channel_id.0, m.contact_external_id.clone());
        let contact_id = match known.contacts.get(&customer) {
            Some(id) => *id,
            None => {
                let id = crate::store::contacts::create_contact(
                    conn,
                    m.account_id.0,
                    m.channel_id.0,
                    &m.contact_external_id,
                )?;
                known.contacts.insert(customer, id);
                id
            }
        };
        let latest = known.chats.remove(&(m.channel_id.0, contact_id));
        let chat = chat_for(conn, &mut rec, m, contact_id, latest)?;
        known
            .chats
            .insert((m.channel_id.0, contact_id), chat.clone());
        rows.push(new_message(m, *author, chat.id, rec.now, &files));
        let files = files.iter().map(|f| f.id).collect();
        pending.push(Pending::New(rec, chat, files));
    }
    lock.before_writing();
    let mut stored: HashMap<(i64, String), Message> =
        crate::store::messages::insert_messages(conn, rows)?
            .into_iter()
            .filter_map(|message| {
                let key = (message.channel_id, message.external_id.clone()?);
                Some((key, message))
            })
            .collect();
    let mut touches: BTreeMap<i64, chats::Touch> = BTreeMap::new();
    let mut outcomes = Vec::with_capacity(run.len());
    for ((m, author), pending) in run.iter().zip(pending) {
        let (mut rec, chat, files) = match pending {
            Pending::New(rec, chat, files) => (rec, chat, files),
            Pending::Stored => {
                outcomes.push(Outcome::Unchanged);
                continue;
            }
            Pending::Refused(refusal) => {
                outcomes.push(Outcome::Refused(refusal));
                continue;
            }
        };
        let mut message = stored
            .remove(&(m.channel_id.0, m.external_id.clone()))
            .ok_or(diesel::result::Error::NotFound)?;
        if !files.is_empty() {
            crate::store::media::attach(conn, m.account_id.0, chat.id, &files, message.id)?;
        }
        if m.attachments.is_some() {
            message = super::media::adopt_inbound(conn, message, rec.now.naive_utc())?;
        }
        let touch = touches.entry(chat.id).or_insert(chats::Touch {
            last_message_at: message.sent_at,
            last_inbound_at: None,
        });
        touch.last_message_at = message.sent_at;
        if *author == Author::Customer {
            touch.last_inbound_at = Some(message.sent_at);
        }
        rec.message_created(&chat, message);
        outcomes.push(rec.done());
    }
    lock.hold(conn)?;
    chats::touch_many(conn, &touches)?;
    Ok(outcomes)
}

/// The row of a message that arrived through a channel, carrying the visitor's `files`.
fn new_message(
    m: &InboundMessage,
    author: Author,
    chat_id: i64,
    now: DateTime<Utc>,
    files: &[MediaRow],
) -> NewMessage {
    let (direction, sender_kind, status) = match author {
        Author::Customer => (Direction::Inbound, "contact", DeliveryStatus::Received),
        Author::Page => (Direction::Outbound, "page", DeliveryStatus::Sent),
    };
    let now = now.naive_utc();
    NewMessage {
        account_id: m.account_id.0,
        chat_id,
        channel_id: m.channel_id.0,
        direction,
        sender_kind: sender_kind.into(),
        sender_id: None,
        external_id: Some(m.external_id.clone()),
        text: m.text.clone(),
        attachments: if files.is_empty() {
            m.attachments.as_ref().map(ToString::to_string)
        } else {
            super::media::describe_uploads(files)
        },
        reply_to: m.reply_to.clone(),
        is_private: false,
        delivery_status: status,
        sent_at: m.sent_at.naive_utc(),
        created_at: now,
        updated_at: now,
    }
}

/// Stores a message that arrived through a channel, once per channel message id.
pub(super) fn channel_message(
    conn: &mut DbConnection,
    m: &InboundMessage,
    author: Author,
) -> QueryResult<Outcome> {
    let mut outcomes = channel_messages(conn, &[(m, author)], &mut GroupLock::taken())?;
    Ok(outcomes.pop().unwrap_or(Outcome::Unchanged))
}

/// Meta's delivery receipt: the messages it names, and (Meta documents `mids` as optional)
/// everything sent to that customer on the channel up to its watermark. Only `sent` messages
/// move on to `delivered`: a read one stays read, a pending one has not reached Meta yet.
impl Rule for Delivered {
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let (account_id, channel_id) = (self.account_id.0, self.channel_id.0);
        let (contact_external_id, mids, watermark) = (
            self.contact_external_id.as_str(),
            &self.mids,
            self.watermark,
        );
        let now = rec.now.naive_utc();
        for mid in mids {
            let Some(message) = crate::store::messages::message_by_external(conn, channel_id, mid)?
            else {
                continue;
            };
            if message.direction == Direction::Outbound
                && matches!(
                    message.delivery_status,
                    DeliveryStatus::Pending | DeliveryStatus::Sent
                )
            {
                crate::store::messages::set_delivery(
                    conn,
                    message.id,
                    DeliveryStatus::Delivered,
                    now,
                )?;
                rec.message_updated(conn, account_id, message.id)?;
            }
        }
        if let Some(watermark) = watermark {
            let earlier = outbound_until(
                conn,
                channel_id,
                contact_external_id,
                watermark,
                &[DeliveryStatus::Sent],
            )?;
            for id in earlier {
                crate::store::messages::set_delivery(conn, id, DeliveryStatus::Delivered, now)?;
                rec.message_updated(conn, account_id, id)?;
            }
        }
        Ok(())
    }
}

/// Meta's read receipt: everything that reached the customer on the channel up to the
/// watermark is read.
impl Rule for Read {
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let (account_id, channel_id) = (self.account_id.0, self.channel_id.0);
        let (contact_external_id, watermark) = (self.contact_external_id.as_str(), self.watermark);
        let now = rec.now.naive_utc();
        let seen = outbound_until(
            conn,
            channel_id,
            contact_external_id,
            watermark,
            &[DeliveryStatus::Sent, DeliveryStatus::Delivered],
        )?;
        for id in seen {
            crate::store::messages::set_delivery(conn, id, DeliveryStatus::Read, now)?;
            rec.message_updated(conn, account_id, id)?;
        }
        Ok(())
    }
}

/// Our messages to the customer with this id on the channel (in any of their chats there),
/// sent at or before `watermark`, that are in one of the states `from`.
fn outbound_until(
    conn: &mut DbConnection,
    channel_id: i64,
    contact_external_id: &str,
    watermark: DateTime<Utc>,
    from: &[DeliveryStatus],
) -> QueryResult<Vec<i64>> {
    let Some(contact_id) =
        crate::store::contacts::contact_by_external(conn, channel_id, contact_external_id)?
    else {
        return Ok(Vec::new());
    };
    crate::store::messages::outbound_to_contact_until(
        conn,
        channel_id,
        contact_id,
        watermark.naive_utc(),
        from,
    )
}

impl Rule for Deleted {
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let (account_id, channel_id) = (self.account_id.0, self.channel_id.0);
        let external_id = self.external_id.as_str();
        if let Some(message) =
            crate::store::messages::message_by_external(conn, channel_id, external_id)?
        {
            let now = rec.now.naive_utc();
            if crate::store::messages::mark_deleted(conn, message.id, now)? == 1 {
                super::media::erase_of_message(conn, &message, now)?;
                rec.message_updated(conn, account_id, message.id)?;
            }
        }
        Ok(())
    }
}

/// A customer's reaction annotates the message it is on (`message.updated`); a reaction to a
/// message that is not stored is acknowledged and dropped.
impl Rule for Reaction {
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let (account_id, channel_id) = (self.account_id.0, self.channel_id.0);
        let (target_external_id, emoji) = (self.target_external_id.as_str(), self.emoji.as_deref());
        if let Some(message) =
            crate::store::messages::message_by_external(conn, channel_id, target_external_id)?
        {
            if crate::store::messages::set_reaction(
                conn,
                &message,
                "contact",
                emoji,
                rec.now.naive_utc(),
            )? {
                rec.message_updated(conn, account_id, message.id)?;
            }
        }
        Ok(())
    }
}
