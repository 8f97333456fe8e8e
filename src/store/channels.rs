//! Channels: the Facebook pages, Instagram accounts and website widgets an account receives on.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::channels;
use crate::model::ChannelKind;

/// A channel as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = channels)]
pub struct Channel {
    /// Primary key.
    pub id: i64,
    /// Owning account.
    pub account_id: i64,
    /// Where customers write from.
    #[diesel(deserialize_as = String)]
    pub kind: ChannelKind,
    /// Display name.
    pub name: String,
    /// Page id or Instagram account id.
    pub external_id: Option<String>,
    /// Page access token (a secret).
    pub access_token: Option<String>,
    /// Public key of a widget channel.
    pub widget_key: Option<String>,
    /// Comma-separated origins a widget may be embedded on.
    pub allowed_origins: String,
    /// Whether the AI responder answers first.
    pub ai_enabled: bool,
    /// The AI's system prompt.
    pub ai_system_prompt: Option<String>,
    /// Model override.
    pub ai_model: Option<String>,
    /// Temperature override.
    pub ai_temperature: Option<f64>,
    /// Inactive channels receive nothing.
    pub is_active: bool,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
    /// A widget's look and pre-chat form, JSON text.
    pub widget_settings: Option<String>,
}

/// Fields of a new channel.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = channels)]
pub struct NewChannel {
    /// Owning account.
    pub account_id: i64,
    /// `facebook`, `instagram` or `widget`.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// Page id or Instagram account id.
    pub external_id: Option<String>,
    /// Page access token.
    pub access_token: Option<String>,
    /// Public key of a widget channel.
    pub widget_key: Option<String>,
    /// Comma-separated allowed origins.
    pub allowed_origins: String,
    /// AI responder on or off.
    pub ai_enabled: bool,
    /// The AI's system prompt.
    pub ai_system_prompt: Option<String>,
    /// Model override.
    pub ai_model: Option<String>,
    /// Temperature override.
    pub ai_temperature: Option<f64>,
    /// Active.
    pub is_active: bool,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
    /// A widget's look and pre-chat form, JSON text.
    pub widget_settings: Option<String>,
}

impl NewChannel {
    /// An active Messenger page, with no access token and the AI off, created now: where tests
    /// and benchmarks start.
    pub fn messenger_page(account_id: i64, page_id: &str) -> Self {
        let now = chrono::Utc::now().naive_utc();
        Self {
            account_id,
            kind: "facebook".into(),
            name: "Page".into(),
            external_id: Some(page_id.into()),
            access_token: None,
            widget_key: None,
            allowed_origins: String::new(),
            ai_enabled: false,
            ai_system_prompt: None,
            ai_model: None,
            ai_temperature: None,
            is_active: true,
            created_at: now,
            updated_at: now,
            widget_settings: None,
        }
    }
}

/// Changes to a channel; `None` leaves a field alone.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = channels)]
pub struct ChannelChanges {
    /// Display name.
    pub name: Option<String>,
    /// Page access token.
    pub access_token: Option<String>,
    /// Allowed origins.
    pub allowed_origins: Option<String>,
    /// AI on or off.
    pub ai_enabled: Option<bool>,
    /// System prompt.
    pub ai_system_prompt: Option<Option<String>>,
    /// Model override.
    pub ai_model: Option<Option<String>>,
    /// Temperature override.
    pub ai_temperature: Option<Option<f64>>,
    /// Active.
    pub is_active: Option<bool>,
    /// Set on every change.
    pub updated_at: Option<NaiveDateTime>,
    /// A widget's look and pre-chat form, JSON text.
    pub widget_settings: Option<String>,
}

/// Stores a channel; returns its id.
pub fn create(conn: &mut DbConnection, new: &NewChannel) -> QueryResult<i64> {
    crate::insert_returning_id!(conn, crate::store::schema::channels, new)
}

/// The account's channels.
pub fn list(conn: &mut DbConnection, account_id: i64) -> QueryResult<Vec<Channel>> {
    channels::table
        .filter(channels::account_id.eq(account_id))
        .order(channels::id.asc())
        .select(Channel::as_select())
        .load(conn)
}

/// One channel of the account.
pub fn find(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<Channel> {
    channels::table
        .filter(channels::account_id.eq(account_id))
        .filter(channels::id.eq(id))
        .select(Channel::as_select())
        .first(conn)
}

/// The active channel of a kind with the given page or account id (webhook routing).
pub fn find_by_external(
    conn: &mut DbConnection,
    kind: ChannelKind,
    external_id: &str,
) -> QueryResult<Option<Channel>> {
    channels::table
        .filter(channels::kind.eq(kind.as_str()))
        .filter(channels::external_id.eq(external_id))
        .filter(channels::is_active.eq(true))
        .select(Channel::as_select())
        .first(conn)
        .optional()
}

/// The active widget channel with this public key (the widget API's entry point).
pub fn find_widget(conn: &mut DbConnection, widget_key: &str) -> QueryResult<Option<Channel>> {
    channels::table
        .filter(channels::widget_key.eq(widget_key))
        .filter(channels::kind.eq(ChannelKind::Widget.as_str()))
        .filter(channels::is_active.eq(true))
        .select(Channel::as_select())
        .first(conn)
        .optional()
}

/// Changes a channel of the account; returns rows changed.
pub fn update(
    conn: &mut DbConnection,
    account_id: i64,
    id: i64,
    mut changes: ChannelChanges,
) -> QueryResult<usize> {
    changes.updated_at = Some(Utc::now().naive_utc());
    diesel::update(
        channels::table
            .filter(channels::account_id.eq(account_id))
            .filter(channels::id.eq(id)),
    )
    .set(changes)
    .execute(conn)
}

/// Deletes a channel of the account (its chats and messages go with it).
pub fn delete(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<usize> {
    diesel::delete(
        channels::table
            .filter(channels::account_id.eq(account_id))
            .filter(channels::id.eq(id)),
    )
    .execute(conn)
}

/// A channel's AI settings.
#[derive(Debug, Clone, Queryable)]
pub struct AiSettings {
    /// The responder answers on this channel.
    pub enabled: bool,
    /// The channel's own system prompt.
    pub prompt: Option<String>,
    /// The channel's model.
    pub model: Option<String>,
    /// The channel's temperature.
    pub temperature: Option<f64>,
}

/// A channel's AI settings.
pub fn ai_settings(conn: &mut DbConnection, id: i64) -> QueryResult<AiSettings> {
    channels::table
        .find(id)
        .select((
            channels::ai_enabled,
            channels::ai_system_prompt,
            channels::ai_model,
            channels::ai_temperature,
        ))
        .first(conn)
}

/// What kind of channel `id` is.
pub fn kind_of(conn: &mut DbConnection, id: i64) -> QueryResult<ChannelKind> {
    let kind: String = channels::table
        .find(id)
        .select(channels::kind)
        .first(conn)?;
    kind.parse()
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// Whether the AI responder answers on channel `id`.
pub fn ai_enabled(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    channels::table
        .find(id)
        .select(channels::ai_enabled)
        .first(conn)
}

/// Keeps an API channel's key, as its hash.
pub fn set_api_key_hash(
    conn: &mut DbConnection,
    account_id: i64,
    id: i64,
    hash: &str,
) -> QueryResult<usize> {
    diesel::update(
        channels::table
            .filter(channels::account_id.eq(account_id))
            .filter(channels::id.eq(id)),
    )
    .set(channels::api_key_hash.eq(hash))
    .execute(conn)
}

/// An active API channel by id with its key's hash, whatever its account (the key decides).
pub fn api_channel(conn: &mut DbConnection, id: i64) -> QueryResult<Option<(Channel, String)>> {
    channels::table
        .filter(channels::id.eq(id))
        .filter(channels::kind.eq(ChannelKind::Api.as_str()))
        .filter(channels::is_active.eq(true))
        .filter(channels::api_key_hash.is_not_null())
        .select((
            Channel::as_select(),
            channels::api_key_hash.assume_not_null(),
        ))
        .first(conn)
        .optional()
}
