//! A business's own AI settings: one row per account (`channel_id` 0) and one per channel
//! that overrides it; the key is stored sealed, never in plain text.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::connection::DbConnection;
use super::schema::ai_settings;

/// The `channel_id` of the account's own row.
pub const ACCOUNT_LEVEL: i64 = 0;

/// One level's settings; every field absent means "inherit".
#[derive(Debug, Clone, Default, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ai_settings)]
#[diesel(treat_none_as_null = true)]
pub struct AiSettingsRow {
    /// The account.
    pub account_id: i64,
    /// The channel, or [`ACCOUNT_LEVEL`].
    pub channel_id: i64,
    /// An OpenAI-compatible API's base URL.
    pub base_url: Option<String>,
    /// The API key, sealed under `SECRETS_KEY` (see `crate::secrets`).
    pub api_key_sealed: Option<String>,
    /// The key's last four characters, the only part ever shown.
    pub api_key_last4: Option<String>,
    /// The model.
    pub model: Option<String>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// The system prompt.
    pub system_prompt: Option<String>,
    /// Whether the AI is off (the responder hands chats to people, assistance answers 409).
    pub paused: Option<bool>,
    /// Provider calls allowed per minute.
    pub calls_per_minute: Option<i32>,
    /// Prompt and completion tokens allowed per calendar month (UTC).
    pub tokens_per_month: Option<i64>,
    /// Last changed.
    pub updated_at: NaiveDateTime,
}

/// The account's row and, when `channel_id` is given, the channel's, in one query.
pub fn levels(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: Option<i64>,
) -> QueryResult<(Option<AiSettingsRow>, Option<AiSettingsRow>)> {
    let wanted = [ACCOUNT_LEVEL, channel_id.unwrap_or(ACCOUNT_LEVEL)];
    let rows: Vec<AiSettingsRow> = ai_settings::table
        .filter(ai_settings::account_id.eq(account_id))
        .filter(ai_settings::channel_id.eq_any(wanted))
        .select(AiSettingsRow::as_select())
        .load(conn)?;
    let mut account = None;
    let mut channel = None;
    for row in rows {
        if row.channel_id == ACCOUNT_LEVEL {
            account = Some(row);
        } else {
            channel = Some(row);
        }
    }
    Ok((account, channel))
}

/// Writes one level's row, replacing what was there (a concurrent first write of the same
/// level is turned into an update).
pub fn save(conn: &mut DbConnection, row: &AiSettingsRow) -> QueryResult<()> {
    let update = || {
        diesel::update(
            ai_settings::table
                .filter(ai_settings::account_id.eq(row.account_id))
                .filter(ai_settings::channel_id.eq(row.channel_id)),
        )
        .set(row)
    };
    if update().execute(conn)? > 0 {
        return Ok(());
    }
    match diesel::insert_into(ai_settings::table)
        .values(row)
        .execute(conn)
    {
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            update().execute(conn).map(|_| ())
        }
        other => other.map(|_| ()),
    }
}

/// Removes a channel's row (the channel inherits everything again).
pub fn remove_channel(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
) -> QueryResult<()> {
    diesel::delete(
        ai_settings::table
            .filter(ai_settings::account_id.eq(account_id))
            .filter(ai_settings::channel_id.eq(channel_id)),
    )
    .execute(conn)
    .map(|_| ())
}

/// Every sealed key of every account, as (account, level, sealed): for rotating `SECRETS_KEY`.
pub fn sealed_keys(conn: &mut DbConnection) -> QueryResult<Vec<(i64, i64, String)>> {
    let rows: Vec<(i64, i64, Option<String>)> = ai_settings::table
        .filter(ai_settings::api_key_sealed.is_not_null())
        .select((
            ai_settings::account_id,
            ai_settings::channel_id,
            ai_settings::api_key_sealed,
        ))
        .order((ai_settings::account_id, ai_settings::channel_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(a, c, s)| s.map(|s| (a, c, s)))
        .collect())
}

/// Replaces one level's sealed key (rotation).
pub fn reseal(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    sealed: &str,
) -> QueryResult<usize> {
    diesel::update(
        ai_settings::table
            .filter(ai_settings::account_id.eq(account_id))
            .filter(ai_settings::channel_id.eq(channel_id)),
    )
    .set(ai_settings::api_key_sealed.eq(sealed))
    .execute(conn)
}
