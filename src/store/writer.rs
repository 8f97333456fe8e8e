//! The store's single writer: commits bus commands in groups (one transaction for everything
//! that arrived during the last commit), answers each submitter once durable, then publishes.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use tokio::sync::mpsc;

use super::chats::{self, NewMessage};
use super::connection::{DbConnection, DbPool};
use super::events;
use super::schema::channels;
use crate::bus::{
    Command, DeliveryResult, Envelope, Event, InboundMessage, Outcome, Publisher, StoreError,
};

/// How long the writer waits for a connection before failing a batch as unavailable.
const CONNECT_WAIT: Duration = Duration::from_secs(2);

/// Starts the writer on its own thread (Diesel is synchronous; it never runs on async threads).
pub fn spawn(
    pool: DbPool,
    bus: Publisher,
    commands: mpsc::Receiver<Envelope>,
    max_batch: usize,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || run(&pool, &bus, commands, max_batch.max(1)))
}

fn run(pool: &DbPool, bus: &Publisher, mut commands: mpsc::Receiver<Envelope>, max_batch: usize) {
    while let Some(first) = commands.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match commands.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        commit_batch(pool, bus, batch);
    }
    tracing::info!("store writer stopped: the bus is closed");
}

/// Commits one group; every submitter hears back only after the commit (or the failure).
pub fn commit_batch(pool: &DbPool, bus: &Publisher, batch: Vec<Envelope>) {
    let size = batch.len();
    let mut conn = match pool.get_timeout(CONNECT_WAIT) {
        Ok(conn) => conn,
        Err(e) => return fail_all(batch, &format!("no database connection: {e}")),
    };
    let mut results: Vec<Result<Outcome, StoreError>> = Vec::with_capacity(size);
    let mut attempt = 0;
    let committed = loop {
        attempt += 1;
        let committed = conn.transaction::<_, DieselError, _>(|conn| {
            results.clear();
            take_write_lock(conn, &batch)?;
            for envelope in &batch {
                // A savepoint per command: one refused command does not sink the group.
                let result = conn.transaction(|conn| apply(conn, &envelope.command));
                results.push(match result {
                    Ok(outcome) => Ok(outcome),
                    Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                        // Another writer (another node) stored the same message first.
                        Ok(Outcome {
                            events: Vec::new(),
                            duplicate: true,
                        })
                    }
                    // The database gave up the whole transaction (InnoDB rolls all of it
                    // back), or the connection is gone: nothing of the group may count as done.
                    Err(e) if is_conflict(&e) || is_outage(&e) => return Err(e),
                    // The rest of the group goes on: this command's own data was refused.
                    Err(e) => {
                        let refused = refusal(&e);
                        keep_refusal(conn, &envelope.command, &refused)?;
                        Err(refused)
                    }
                });
            }
            Ok(())
        });
        match committed {
            Err(e) if is_conflict(&e) && attempt < CONFLICT_ATTEMPTS => {
                tracing::info!(attempt, error = %e, "another writer got in the way; committing the group again");
                std::thread::sleep(
                    crate::retry::Backoff {
                        attempts: CONFLICT_ATTEMPTS,
                        base: Duration::from_millis(20),
                        max: Duration::from_millis(200),
                    }
                    .delay(attempt),
                );
            }
            other => break other,
        }
    };
    if let Err(e) = committed {
        return fail_all(batch, &format!("commit failed: {e}"));
    }
    tracing::debug!(size, "committed a group");
    for (envelope, result) in batch.into_iter().zip(results) {
        if let Ok(outcome) = &result {
            for event in &outcome.events {
                bus.publish(Arc::clone(event));
            }
        }
        // A submitter that gave up is not an error.
        let _ = envelope.reply.send(result);
    }
}

/// Tries of a group that another writer (another hub process) deadlocked with.
const CONFLICT_ATTEMPTS: u32 = 5;

/// A deadlock or serialization failure: the database dropped the whole transaction, and
/// trying the group again is the cure.
fn is_conflict(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(_, info) => {
            let message = info.message().to_ascii_lowercase();
            message.contains("deadlock") || message.contains("lock wait timeout")
        }
        _ => false,
    }
}

/// The connection or the transaction itself failed: the whole group is lost, not one command.
fn is_outage(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        ) | DieselError::BrokenTransactionManager
            | DieselError::RollbackErrorOnCommit { .. }
            | DieselError::RollbackTransaction
            | DieselError::AlreadyInTransaction
            | DieselError::NotInTransaction
    )
}

/// What a refused command answers: a reference to nothing, a constraint, or data the
/// database would not take.
fn refusal(e: &DieselError) -> StoreError {
    match e {
        DieselError::NotFound => StoreError::NotFound(e.to_string()),
        DieselError::DatabaseError(
            DatabaseErrorKind::ForeignKeyViolation | DatabaseErrorKind::CheckViolation,
            info,
        ) => StoreError::Conflict(info.message().to_string()),
        DieselError::DatabaseError(_, info) => StoreError::Rejected(info.message().to_string()),
        other => StoreError::Rejected(other.to_string()),
    }
}

/// Keeps a refused command in the account's audit log (same transaction), so an operator sees
/// what was not stored and why; a Meta event is acknowledged after this, never redelivered.
fn keep_refusal(
    conn: &mut DbConnection,
    command: &Command,
    refused: &StoreError,
) -> QueryResult<()> {
    tracing::warn!(command = command.name(), error = %refused, "the store refused a command; kept in the audit log");
    let mut details = serde_json::json!({"command": command.name(), "reason": refused.to_string()});
    let mut target = None;
    if let Command::Inbound(m) | Command::Echo(m) = command {
        details["channel_id"] = m.channel_id.into();
        details["contact_external_id"] = m.contact_external_id.clone().into();
        details["text"] = m.text.clone().into();
        target = Some(m.external_id.clone());
    }
    super::audit::record(
        conn,
        super::audit::NewEntry {
            account_id: command.account_id(),
            action: "store.rejected",
            target_type: target.as_ref().map(|_| "message"),
            target_id: target,
            details: Some(details),
            ..Default::default()
        },
    )
}

fn fail_all(batch: Vec<Envelope>, reason: &str) {
    tracing::error!(size = batch.len(), %reason, "store could not commit; submitters get 503");
    for envelope in batch {
        let _ = envelope
            .reply
            .send(Err(StoreError::Unavailable(reason.to_string())));
    }
}

mod ai;

struct Recorder {
    now: DateTime<Utc>,
    events: Vec<Arc<Event>>,
}

impl Recorder {
    fn new() -> Self {
        Self {
            now: Utc::now(),
            events: Vec::new(),
        }
    }

    fn emit(
        &mut self,
        conn: &mut DbConnection,
        account_id: i64,
        event_type: &str,
        chat: Option<&chats::Chat>,
        data: impl serde::Serialize,
    ) -> QueryResult<()> {
        let data =
            serde_json::to_value(data).map_err(|e| DieselError::SerializationError(Box::new(e)))?;
        let event = events::append(conn, account_id, event_type, chat, data, self.now)?;
        self.events.push(Arc::new(event));
        Ok(())
    }

    /// Emits `chat.assigned`, visible to the new and the previous assignee (and the queue).
    fn emit_assignment(
        &mut self,
        conn: &mut DbConnection,
        account_id: i64,
        chat: &chats::Chat,
        previous: Option<i64>,
        data: serde_json::Value,
    ) -> QueryResult<()> {
        let mut event = events::append(
            conn,
            account_id,
            "chat.assigned",
            Some(chat),
            data,
            self.now,
        )?;
        events::set_previous_assignee(conn, account_id, event.seq, previous)?;
        event.previous_assignee_id = previous;
        self.events.push(Arc::new(event));
        Ok(())
    }

    /// Emits `message.updated` with the message as it now is.
    fn message_updated(
        &mut self,
        conn: &mut DbConnection,
        account_id: i64,
        message_id: i64,
    ) -> QueryResult<()> {
        let message = chats::message(conn, message_id)?;
        self.emit_in(
            conn,
            account_id,
            "message.updated",
            message.chat_id,
            &message,
        )
    }

    /// Like `emit`, for a chat known by id.
    fn emit_in(
        &mut self,
        conn: &mut DbConnection,
        account_id: i64,
        event_type: &str,
        chat_id: i64,
        data: impl serde::Serialize,
    ) -> QueryResult<()> {
        let chat = chats::find(conn, account_id, chat_id)?;
        self.emit(conn, account_id, event_type, Some(&chat), data)
    }

    fn done(self) -> Outcome {
        Outcome {
            duplicate: self.events.is_empty(),
            events: self.events,
        }
    }
}

/// Takes the group's locks before anything else, in one order, so two writers (two hub
/// processes) queue behind each other instead of deadlocking. On SQLite that is the database's
/// write lock (a second writer then waits out the busy timeout instead of failing on a stale
/// snapshot); elsewhere, the seq counter rows of the group's accounts, by id, which every
/// event-emitting command needs until commit anyway. The statements change nothing.
fn take_write_lock(conn: &mut DbConnection, batch: &[Envelope]) -> QueryResult<()> {
    if matches!(conn, DbConnection::Sqlite(_)) {
        diesel::sql_query("UPDATE accounts SET event_seq = event_seq WHERE 0 = 1").execute(conn)?;
        return Ok(());
    }
    let mut accounts: Vec<i64> = batch.iter().map(|e| e.command.account_id()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    for account in accounts {
        use super::schema::accounts;
        diesel::update(accounts::table.find(account))
            .set(accounts::event_seq.eq(accounts::event_seq))
            .execute(conn)?;
    }
    Ok(())
}

/// Applies one command inside the group's transaction.
fn apply(conn: &mut DbConnection, command: &Command) -> QueryResult<Outcome> {
    match command {
        Command::Inbound(message) => channel_message(conn, message, Author::Customer),
        Command::Echo(echo) => channel_message(conn, echo, Author::Page),
        Command::Delivered {
            account_id,
            channel_id,
            mids,
        } => delivered(conn, *account_id, *channel_id, mids),
        Command::Read {
            account_id,
            channel_id,
            contact_external_id,
            watermark,
        } => read(
            conn,
            *account_id,
            *channel_id,
            contact_external_id,
            *watermark,
        ),
        Command::Deleted {
            account_id,
            channel_id,
            external_id,
        } => deleted(conn, *account_id, *channel_id, external_id),
        Command::Reaction {
            account_id,
            channel_id,
            target_external_id,
            emoji,
        } => reaction(
            conn,
            *account_id,
            *channel_id,
            target_external_id,
            emoji.as_deref(),
        ),
        Command::AgentReply {
            account_id,
            chat_id,
            user_id,
            text,
            private,
        } => agent_reply(conn, *account_id, *chat_id, *user_id, text, *private),
        Command::SetStatus {
            account_id,
            chat_id,
            user_id,
            status,
        } => set_status(conn, *account_id, *chat_id, *user_id, status),
        Command::DeliveryResult {
            account_id,
            message_id,
            result,
        } => delivery_result(conn, *account_id, *message_id, result),
        Command::Assign {
            account_id,
            chat_id,
            assignee_id,
            by,
        } => assign(conn, *account_id, *chat_id, *assignee_id, *by),
        Command::BotReply(reply) => ai::bot_reply(conn, reply),
        Command::Handoff {
            account_id,
            chat_id,
            reason,
            by,
            take,
        } => ai::handoff(conn, *account_id, *chat_id, reason, *by, *take),
        Command::ReturnToBot {
            account_id,
            chat_id,
            by,
        } => ai::return_to_bot(conn, *account_id, *chat_id, *by),
        Command::CaptureLead {
            account_id,
            chat_id,
            lead,
        } => ai::capture_lead(conn, *account_id, *chat_id, lead),
        Command::Requeue {
            account_id,
            chat_id,
            user_id,
        } => {
            let chat = chats::find(conn, *account_id, *chat_id)?;
            if chat.assignee_id != Some(*user_id) || chat.status != "open" {
                return Ok(Recorder::new().done());
            }
            assign(conn, *account_id, *chat_id, None, None)
        }
        Command::AutoAssign {
            account_id,
            chat_id,
            online,
        } => auto_assign(conn, *account_id, *chat_id, online),
        Command::MarkRead {
            account_id,
            chat_id,
            user_id,
            message_id,
        } => mark_read(conn, *account_id, *chat_id, *user_id, *message_id),
    }
}

fn agent_reply(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    user_id: i64,
    text: &str,
    private: bool,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let chat = chats::find(conn, account_id, chat_id)?;
    let now = rec.now.naive_utc();
    let widget: bool = channels::table
        .find(chat.channel_id)
        .select(channels::kind)
        .first::<String>(conn)?
        == "widget";
    // Widget replies are delivered by the widget itself; Meta replies wait for the Send API.
    let status = match (private, widget) {
        (true, _) => "note",
        (false, true) => "sent",
        (false, false) => "pending",
    };
    let message = chats::insert_message(
        conn,
        &NewMessage {
            account_id,
            chat_id,
            channel_id: chat.channel_id,
            direction: "outbound".into(),
            sender_kind: "agent".into(),
            sender_id: Some(user_id),
            external_id: None,
            text: Some(text.to_string()),
            attachments: None,
            reply_to: None,
            is_private: private,
            delivery_status: status.into(),
            sent_at: now,
            created_at: now,
            updated_at: now,
        },
    )?;
    if !private {
        chats::touch(conn, chat_id, now, false)?;
        if chat.status == "bot" || chat.status == "resolved" {
            chats::set_status(conn, chat_id, "open", now)?;
            let chat = chats::find(conn, account_id, chat_id)?;
            rec.emit(conn, account_id, "chat.updated", Some(&chat), &chat)?;
        }
        // Replying in a bot chat nobody holds takes it over.
        if chat.status == "bot" && chat.assignee_id.is_none() {
            let mut taken = assign(conn, account_id, chat_id, Some(user_id), Some(user_id))?;
            rec.events.append(&mut taken.events);
        }
    }
    rec.emit(conn, account_id, "message.created", Some(&chat), &message)?;
    Ok(rec.done())
}

fn set_status(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    user_id: i64,
    status: &str,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let chat = chats::find(conn, account_id, chat_id)?;
    if chat.status == status {
        return Ok(rec.done());
    }
    let now = rec.now.naive_utc();
    chats::set_status(conn, chat_id, status, now)?;
    if status == "resolved" {
        chats::set_resolved_at(conn, chat_id, now)?;
    }
    let chat = chats::find(conn, account_id, chat_id)?;
    tracing::debug!(chat_id, user_id, status, "chat status changed");
    rec.emit(conn, account_id, "chat.updated", Some(&chat), &chat)?;
    Ok(rec.done())
}

fn mark_read(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    user_id: i64,
    message_id: i64,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    if !chats::mark_read(
        conn,
        account_id,
        chat_id,
        user_id,
        message_id,
        rec.now.naive_utc(),
    )? {
        return Ok(rec.done());
    }
    rec.emit_in(
        conn,
        account_id,
        "chat.read",
        chat_id,
        serde_json::json!({ "user_id": user_id, "last_read_message_id": message_id }),
    )?;
    Ok(rec.done())
}

/// The contact's chat, opened when new and reopened when resolved.
fn chat_for(
    conn: &mut DbConnection,
    rec: &mut Recorder,
    account_id: i64,
    channel_id: i64,
    contact_id: i64,
) -> QueryResult<chats::Chat> {
    let now = rec.now.naive_utc();
    match chats::latest_for_contact(conn, channel_id, contact_id)? {
        Some(chat) if chat.status == "resolved" => {
            chats::set_status(conn, chat.id, "open", now)?;
            let chat = chats::find(conn, account_id, chat.id)?;
            rec.emit(conn, account_id, "chat.updated", Some(&chat), &chat)?;
            Ok(chat)
        }
        Some(chat) => Ok(chat),
        None => {
            let ai: bool = channels::table
                .find(channel_id)
                .select(channels::ai_enabled)
                .first(conn)?;
            let status = if ai { "bot" } else { "open" };
            let chat = chats::create(conn, account_id, channel_id, contact_id, status, now)?;
            rec.emit(conn, account_id, "chat.created", Some(&chat), &chat)?;
            Ok(chat)
        }
    }
}

/// Who wrote a message that arrived through a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Author {
    /// The customer.
    Customer,
    /// Our page, from Meta's own inbox (an echo we did not send through Switchboard).
    Page,
}

/// Stores a message that arrived through a channel, once per channel message id.
fn channel_message(
    conn: &mut DbConnection,
    m: &InboundMessage,
    author: Author,
) -> QueryResult<Outcome> {
    if chats::message_by_external(conn, m.channel_id, &m.external_id)?.is_some() {
        // A redelivery, or the echo of a send we already stored.
        return Ok(Outcome {
            events: Vec::new(),
            duplicate: true,
        });
    }
    let mut rec = Recorder::new();
    let contact_id =
        chats::upsert_contact(conn, m.account_id, m.channel_id, &m.contact_external_id)?;
    let chat = chat_for(conn, &mut rec, m.account_id, m.channel_id, contact_id)?;
    let now = rec.now.naive_utc();
    let (direction, sender_kind, status) = match author {
        Author::Customer => ("inbound", "contact", "received"),
        Author::Page => ("outbound", "page", "sent"),
    };
    let message = chats::insert_message(
        conn,
        &NewMessage {
            account_id: m.account_id,
            chat_id: chat.id,
            channel_id: m.channel_id,
            direction: direction.into(),
            sender_kind: sender_kind.into(),
            sender_id: None,
            external_id: Some(m.external_id.clone()),
            text: m.text.clone(),
            attachments: m.attachments.as_ref().map(ToString::to_string),
            reply_to: m.reply_to.clone(),
            is_private: false,
            delivery_status: status.into(),
            sent_at: m.sent_at.naive_utc(),
            created_at: now,
            updated_at: now,
        },
    )?;
    chats::touch(conn, chat.id, message.sent_at, author == Author::Customer)?;
    rec.emit(conn, m.account_id, "message.created", Some(&chat), &message)?;
    Ok(rec.done())
}

fn delivered(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    mids: &[String],
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let now = rec.now.naive_utc();
    for mid in mids {
        let Some(message) = chats::message_by_external(conn, channel_id, mid)? else {
            continue;
        };
        if message.direction == "outbound"
            && matches!(message.delivery_status.as_str(), "pending" | "sent")
        {
            chats::set_delivery(conn, message.id, "delivered", now)?;
            rec.message_updated(conn, account_id, message.id)?;
        }
    }
    Ok(rec.done())
}

fn read(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    contact_external_id: &str,
    watermark: DateTime<Utc>,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let contact = super::schema::contacts::table
        .filter(super::schema::contacts::channel_id.eq(channel_id))
        .filter(super::schema::contacts::external_id.eq(contact_external_id))
        .select(super::schema::contacts::id)
        .first::<i64>(conn)
        .optional()?;
    let Some(contact_id) = contact else {
        return Ok(rec.done());
    };
    let Some(chat) = chats::latest_for_contact(conn, channel_id, contact_id)? else {
        return Ok(rec.done());
    };
    let now = rec.now.naive_utc();
    for message in chats::unread_outbound_until(conn, chat.id, watermark.naive_utc())? {
        chats::set_delivery(conn, message.id, "read", now)?;
        let message = chats::message(conn, message.id)?;
        rec.emit(conn, account_id, "message.updated", Some(&chat), &message)?;
    }
    Ok(rec.done())
}

fn deleted(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    external_id: &str,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    if let Some(message) = chats::message_by_external(conn, channel_id, external_id)? {
        if chats::mark_deleted(conn, message.id, rec.now.naive_utc())? == 1 {
            rec.message_updated(conn, account_id, message.id)?;
        }
    }
    Ok(rec.done())
}

/// A customer's reaction annotates the message it is on (`message.updated`); a reaction to a
/// message that is not stored is acknowledged and dropped.
fn reaction(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    target_external_id: &str,
    emoji: Option<&str>,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    if let Some(message) = chats::message_by_external(conn, channel_id, target_external_id)? {
        if chats::set_reaction(conn, &message, "contact", emoji, rec.now.naive_utc())? {
            rec.message_updated(conn, account_id, message.id)?;
        }
    }
    Ok(rec.done())
}

fn delivery_result(
    conn: &mut DbConnection,
    account_id: i64,
    message_id: i64,
    result: &DeliveryResult,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let now = rec.now.naive_utc();
    let message = chats::message(conn, message_id)?;
    match result {
        DeliveryResult::Sent { external_id } => {
            // Meta's echo may have arrived first and been stored as a page message: ours wins.
            if let Some(echo) = chats::message_by_external(conn, message.channel_id, external_id)? {
                if echo.id != message.id {
                    chats::delete_message(conn, echo.id)?;
                }
            }
            chats::record_sent(conn, message_id, external_id, now)?;
        }
        DeliveryResult::Retry {
            error,
            next_attempt_at,
        } => {
            chats::record_retry(conn, message_id, error, next_attempt_at.naive_utc(), now)?;
            return Ok(rec.done());
        }
        DeliveryResult::Failed { error } => {
            chats::record_failure(conn, message_id, error, now)?;
        }
    }
    rec.message_updated(conn, account_id, message_id)?;
    Ok(rec.done())
}

fn assign(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    assignee_id: Option<i64>,
    by: Option<i64>,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let chat = chats::find(conn, account_id, chat_id)?;
    if chat.assignee_id == assignee_id {
        return Ok(rec.done());
    }
    let now = rec.now.naive_utc();
    chats::set_assignee(conn, chat_id, assignee_id, now)?;
    let updated = chats::find(conn, account_id, chat_id)?;
    let data = serde_json::json!({
        "chat": updated,
        "assignee_id": assignee_id,
        "previous_assignee_id": chat.assignee_id,
        "by": by,
    });
    rec.emit_assignment(conn, account_id, &updated, chat.assignee_id, data)?;
    Ok(rec.done())
}

/// Round robin: the next eligible agent after the account's cursor (by user id, wrapping).
fn auto_assign(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    online: &[i64],
) -> QueryResult<Outcome> {
    let rec = Recorder::new();
    // The cursor's lock first: another process may be assigning this very chat, and what it
    // committed is only visible once its lock is released.
    let cursor = super::assignment::lock_cursor(conn, account_id, rec.now.naive_utc())?;
    let chat = chats::find(conn, account_id, chat_id)?;
    if chat.assignee_id.is_some() || chat.status != "open" {
        return Ok(rec.done());
    }
    let eligible = super::assignment::eligible_agents(conn, account_id, online)?;
    let Some(next) = eligible
        .iter()
        .copied()
        .find(|id| *id > cursor)
        .or_else(|| eligible.first().copied())
    else {
        return Ok(rec.done());
    };
    super::assignment::move_cursor(conn, account_id, next)?;
    assign(conn, account_id, chat_id, Some(next), None)
}
