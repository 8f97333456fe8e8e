//! Outgoing webhooks: the URLs admins register, and one delivery row per webhook and event,
//! retried until delivered or kept as a dead letter.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::connection::DbConnection;
use super::schema::{events, outgoing_webhooks, webhook_deliveries};

/// A registered webhook.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outgoing_webhooks)]
pub struct Hook {
    /// Primary key.
    pub id: i64,
    /// Owning account.
    pub account_id: i64,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The HMAC key of the signature.
    pub secret: String,
    /// Event types, as a JSON array text.
    pub event_types: String,
    /// Inactive webhooks get nothing.
    pub is_active: bool,
    /// Registered.
    pub created_at: NaiveDateTime,
    /// Changed.
    pub updated_at: NaiveDateTime,
    /// An API channel's own webhook: it carries that channel's replies only.
    pub channel_id: Option<i64>,
}

impl Hook {
    /// Whether it wants this event: an account's webhook by type; an API channel's, the
    /// channel's outbound messages that are not notes (its replies).
    pub fn wants_event(&self, event: &crate::model::Event) -> bool {
        match self.channel_id {
            None => self.wants(event.event_type.as_str()),
            Some(channel) => match &event.data {
                crate::model::EventData::MessageCreated(m) => {
                    m.channel_id == channel
                        && m.direction == crate::model::Direction::Outbound
                        && !m.is_private
                }
                _ => false,
            },
        }
    }

    /// The event types it wants.
    pub fn types(&self) -> Vec<String> {
        serde_json::from_str(&self.event_types).unwrap_or_default()
    }

    /// Whether it wants this event type.
    pub fn wants(&self, event_type: &str) -> bool {
        self.types().iter().any(|t| t == event_type || t == "*")
    }
}

/// One event for one webhook.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    /// Primary key.
    pub id: i64,
    /// Owning account.
    pub account_id: i64,
    /// The webhook.
    pub webhook_id: i64,
    /// The event's seq.
    pub event_seq: i64,
    /// The event's type.
    pub event_type: String,
    /// The event as JSON text.
    pub payload: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    /// Tries so far.
    pub attempts: i32,
    /// When the next try is due (pending only).
    pub next_attempt_at: Option<NaiveDateTime>,
    /// The receiver's last HTTP status.
    pub last_status_code: Option<i32>,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// Queued (start of the retry window).
    pub created_at: NaiveDateTime,
    /// Delivered.
    pub delivered_at: Option<NaiveDateTime>,
}

/// Registers a webhook.
pub fn create(
    conn: &mut DbConnection,
    account_id: i64,
    url: &str,
    secret: &str,
    types: &[String],
    now: NaiveDateTime,
) -> QueryResult<Hook> {
    let types =
        serde_json::to_string(types).map_err(|e| DieselError::SerializationError(Box::new(e)))?;
    let id = crate::insert_returning_id!(
        conn,
        crate::store::schema::outgoing_webhooks,
        (
            outgoing_webhooks::account_id.eq(account_id),
            outgoing_webhooks::url.eq(url),
            outgoing_webhooks::secret.eq(secret),
            outgoing_webhooks::event_types.eq(&types),
            outgoing_webhooks::is_active.eq(true),
            outgoing_webhooks::created_at.eq(now),
            outgoing_webhooks::updated_at.eq(now),
        )
    )?;
    outgoing_webhooks::table
        .find(id)
        .select(Hook::as_select())
        .first(conn)
}

/// Registers an API channel's webhook, for its replies; without a URL it is off.
pub fn create_for_channel(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    url: Option<&str>,
    secret: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(outgoing_webhooks::table)
        .values((
            outgoing_webhooks::account_id.eq(account_id),
            outgoing_webhooks::url.eq(url.unwrap_or_default()),
            outgoing_webhooks::secret.eq(secret),
            outgoing_webhooks::event_types.eq(r#"["message.created"]"#),
            outgoing_webhooks::is_active.eq(url.is_some()),
            outgoing_webhooks::created_at.eq(now),
            outgoing_webhooks::updated_at.eq(now),
            outgoing_webhooks::channel_id.eq(channel_id),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Points an API channel's webhook at `url`, or turns it off (`None`).
pub fn set_channel_url(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    url: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(
        outgoing_webhooks::table
            .filter(outgoing_webhooks::account_id.eq(account_id))
            .filter(outgoing_webhooks::channel_id.eq(channel_id)),
    )
    .set((
        outgoing_webhooks::url.eq(url.unwrap_or_default()),
        outgoing_webhooks::is_active.eq(url.is_some()),
        outgoing_webhooks::updated_at.eq(chrono::Utc::now().naive_utc()),
    ))
    .execute(conn)
}

/// The webhook URL of each of the account's API channels that has one, by channel id.
pub fn channel_urls(
    conn: &mut DbConnection,
    account_id: i64,
) -> QueryResult<std::collections::HashMap<i64, String>> {
    let rows: Vec<(Option<i64>, String)> = outgoing_webhooks::table
        .filter(outgoing_webhooks::account_id.eq(account_id))
        .filter(outgoing_webhooks::channel_id.is_not_null())
        .filter(outgoing_webhooks::is_active.eq(true))
        .select((outgoing_webhooks::channel_id, outgoing_webhooks::url))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(channel, url)| channel.map(|c| (c, url)))
        .collect())
}

/// What a webhook is sent of an event: the event's frame, and for an API channel's webhook
/// also `conversation`, the business's own id of the customer the reply is for.
pub fn payload_for(
    conn: &mut DbConnection,
    hook: &Hook,
    event: &crate::model::Event,
) -> QueryResult<String> {
    if hook.channel_id.is_none() {
        return Ok(event.json());
    }
    let Some(chat_id) = event.chat_id else {
        return Ok(event.json());
    };
    use super::schema::{chats, contacts};
    let conversation: Option<String> = chats::table
        .inner_join(contacts::table)
        .filter(chats::id.eq(chat_id))
        .filter(chats::account_id.eq(hook.account_id))
        .select(contacts::external_id)
        .first(conn)
        .optional()?;
    let mut value: serde_json::Value = serde_json::from_str(&event.json()).unwrap_or_default();
    value["conversation"] = conversation.into();
    Ok(value.to_string())
}

/// The account's webhooks.
pub fn list(conn: &mut DbConnection, account_id: i64) -> QueryResult<Vec<Hook>> {
    outgoing_webhooks::table
        .filter(outgoing_webhooks::account_id.eq(account_id))
        .order(outgoing_webhooks::id.asc())
        .select(Hook::as_select())
        .load(conn)
}

/// Active webhooks of every account (the dispatcher's view).
pub fn active(conn: &mut DbConnection) -> QueryResult<Vec<Hook>> {
    outgoing_webhooks::table
        .filter(outgoing_webhooks::is_active.eq(true))
        .select(Hook::as_select())
        .load(conn)
}

/// Removes a webhook and its deliveries; rows removed.
pub fn delete(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<usize> {
    conn.transaction(|conn| {
        let found = outgoing_webhooks::table
            .filter(outgoing_webhooks::account_id.eq(account_id))
            .filter(outgoing_webhooks::id.eq(id))
            .count()
            .get_result::<i64>(conn)?;
        if found == 0 {
            return Ok(0);
        }
        diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id)))
            .execute(conn)?;
        diesel::delete(outgoing_webhooks::table.find(id)).execute(conn)
    })
}

/// Queues an event for a webhook; false when it was queued before.
pub fn enqueue(
    conn: &mut DbConnection,
    hook: &Hook,
    seq: i64,
    event_type: &str,
    payload: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::account_id.eq(hook.account_id),
            webhook_deliveries::webhook_id.eq(hook.id),
            webhook_deliveries::event_seq.eq(seq),
            webhook_deliveries::event_type.eq(event_type),
            webhook_deliveries::payload.eq(payload),
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(now),
            webhook_deliveries::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Stored events a webhook has not had yet: after its newest delivery, or since it was
/// registered (for recovery after a restart or a lag).
pub fn missed(
    conn: &mut DbConnection,
    hook: &Hook,
    limit: i64,
) -> QueryResult<Vec<crate::model::Event>> {
    let newest: Option<i64> = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(hook.id))
        .select(diesel::dsl::max(webhook_deliveries::event_seq))
        .first(conn)?;
    let after = match newest {
        Some(seq) => seq,
        None => events::table
            .filter(events::account_id.eq(hook.account_id))
            .filter(events::created_at.lt(hook.created_at))
            .select(diesel::dsl::max(events::seq))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0),
    };
    let latest = super::events::latest_seq(conn, hook.account_id)?;
    let upto = latest.min(after.saturating_add(limit));
    Ok(super::events::range(conn, hook.account_id, after, upto)?
        .into_iter()
        .filter(|e| hook.wants_event(e))
        .collect())
}

/// Pending deliveries due now, oldest first.
pub fn due(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::status.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(webhook_deliveries::account_id.eq_any(super::accounts::sending()))
        .order(webhook_deliveries::id.asc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)
}

/// Takes a due delivery for one try, so another worker (another node) skips it.
pub fn lease(
    conn: &mut DbConnection,
    id: i64,
    seen: Option<NaiveDateTime>,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let target = webhook_deliveries::table
        .find(id)
        .filter(webhook_deliveries::status.eq("pending"));
    let changed = match seen {
        Some(at) => diesel::update(target.filter(webhook_deliveries::next_attempt_at.eq(at)))
            .set(webhook_deliveries::next_attempt_at.eq(until))
            .execute(conn)?,
        None => diesel::update(target.filter(webhook_deliveries::next_attempt_at.is_null()))
            .set(webhook_deliveries::next_attempt_at.eq(until))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

/// The webhook of a delivery.
pub fn hook(conn: &mut DbConnection, id: i64) -> QueryResult<Hook> {
    outgoing_webhooks::table
        .find(id)
        .select(Hook::as_select())
        .first(conn)
}

/// Records one try: delivered, to be retried at `retry_at`, or (no `retry_at`) dead.
pub fn record(
    conn: &mut DbConnection,
    id: i64,
    delivered: bool,
    status_code: Option<i32>,
    error: Option<String>,
    retry_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let status = match (delivered, retry_at) {
        (true, _) => "delivered",
        (false, Some(_)) => "pending",
        (false, None) => "dead",
    };
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq(status),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::next_attempt_at.eq(if delivered { None } else { retry_at }),
            webhook_deliveries::last_status_code.eq(status_code),
            webhook_deliveries::last_error.eq(error),
            webhook_deliveries::delivered_at.eq(delivered.then_some(now)),
        ))
        .execute(conn)
}

/// The account's deliveries in a status (`dead` for dead letters), newest first.
pub fn by_status(
    conn: &mut DbConnection,
    account_id: i64,
    status: &str,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::account_id.eq(account_id))
        .filter(webhook_deliveries::status.eq(status))
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)
}

/// Puts a dead letter back in line with a fresh retry window; rows changed.
pub fn redeliver(
    conn: &mut DbConnection,
    account_id: i64,
    id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::account_id.eq(account_id))
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::status.eq("dead")),
    )
    .set((
        webhook_deliveries::status.eq("pending"),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(now),
        webhook_deliveries::created_at.eq(now),
    ))
    .execute(conn)
}
