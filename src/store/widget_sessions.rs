//! Widget sessions: a visitor's bearer token (kept hashed) tied to their contact and channel.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::{channels, contacts, widget_sessions};

/// A new session.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// `ws_…`, public.
    pub id: &'a str,
    /// The channel's account.
    pub account_id: i64,
    /// The widget channel.
    pub channel_id: i64,
    /// The visitor as a contact.
    pub contact_id: i64,
    /// SHA-256 of the bearer token, hex.
    pub token_hash: &'a str,
    /// The language the visitor's browser reads in, when it said.
    pub language: Option<&'a str>,
    /// Now.
    pub now: NaiveDateTime,
}

/// Stores a session.
pub fn create(conn: &mut DbConnection, new: &NewSession<'_>) -> QueryResult<()> {
    diesel::insert_into(widget_sessions::table)
        .values((
            widget_sessions::id.eq(new.id),
            widget_sessions::account_id.eq(new.account_id),
            widget_sessions::channel_id.eq(new.channel_id),
            widget_sessions::contact_id.eq(new.contact_id),
            widget_sessions::token_hash.eq(new.token_hash),
            widget_sessions::created_at.eq(new.now),
            widget_sessions::last_seen_at.eq(new.now),
            widget_sessions::language.eq(new.language),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A session as a request sees it.
#[derive(Debug, Clone)]
pub struct SessionOwner {
    /// The session id.
    pub session_id: String,
    /// The channel's account.
    pub account_id: i64,
    /// The widget channel.
    pub channel_id: i64,
    /// The visitor as a contact.
    pub contact_id: i64,
    /// The visitor's external id on the channel.
    pub external_id: String,
    /// The channel's allowed origins, comma-separated.
    pub allowed_origins: String,
}

/// The session of a token hash, on an active channel.
pub fn by_token_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<SessionOwner>> {
    let row = widget_sessions::table
        .inner_join(channels::table.on(channels::id.eq(widget_sessions::channel_id)))
        .inner_join(contacts::table.on(contacts::id.eq(widget_sessions::contact_id)))
        .filter(widget_sessions::token_hash.eq(token_hash))
        .filter(channels::is_active.eq(true))
        .select((
            widget_sessions::id,
            widget_sessions::account_id,
            widget_sessions::channel_id,
            widget_sessions::contact_id,
            contacts::external_id,
            channels::allowed_origins,
        ))
        .first::<(String, i64, i64, i64, String, String)>(conn)
        .optional()?;
    Ok(row.map(
        |(session_id, account_id, channel_id, contact_id, external_id, allowed_origins)| {
            SessionOwner {
                session_id,
                account_id,
                channel_id,
                contact_id,
                external_id,
                allowed_origins,
            }
        },
    ))
}

/// The language of the contact's newest widget session that named one.
pub fn language_of(conn: &mut DbConnection, contact_id: i64) -> QueryResult<Option<String>> {
    widget_sessions::table
        .filter(widget_sessions::contact_id.eq(contact_id))
        .filter(widget_sessions::language.is_not_null())
        .order(widget_sessions::created_at.desc())
        .select(widget_sessions::language)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}
