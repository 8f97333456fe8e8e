//! What an API channel has beyond any channel: the key its business's app posts with (kept as
//! a hash) and the signed webhook its replies go out through.

use chrono::Utc;
use serde::Serialize;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::model::ChannelKind;
use crate::store::connection::DbConnection;

/// Where an API channel takes messages and sends replies.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiChannelView {
    /// `POST` customers' messages here with `Authorization: Bearer <api_key>`.
    pub messages_url: String,
    /// Where replies are POSTed, signed like every outgoing webhook; null: none yet.
    pub webhook_url: Option<String>,
}

/// An API channel's secrets, shown once when it is created.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiSecrets {
    /// The channel's key (`sbc_...`): `Authorization: Bearer` on its messages endpoint.
    pub api_key: String,
    /// The HMAC key of `X-Switchboard-Signature` on its replies.
    pub webhook_secret: String,
}

impl ApiSecrets {
    /// A new key (32 random bytes) and webhook secret.
    pub fn mint() -> Self {
        Self {
            api_key: format!("sbc_{}", crate::tokens::random_hex(32)),
            webhook_secret: crate::tokens::random_hex(32),
        }
    }
}

/// Stores an API channel's key hash and its webhook (which carries the channel's replies,
/// `message.created` of outbound messages that are not notes), off until it has a URL.
pub fn provision(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    secrets: &ApiSecrets,
    webhook_url: Option<&str>,
) -> diesel::QueryResult<()> {
    let hash = crate::auth::keys::hash(&secrets.api_key);
    crate::store::channels::set_api_key_hash(conn, account_id, channel_id, &hash)?;
    crate::store::hooks::create_for_channel(
        conn,
        account_id,
        channel_id,
        webhook_url,
        &secrets.webhook_secret,
        Utc::now().naive_utc(),
    )
}

/// A change of an API channel's webhook URL as it is kept: `None` leaves it, `Some(None)`
/// removes it (an empty URL), `Some(Some(url))` sets it; 422 for another kind or a URL a
/// webhook may not have.
pub async fn webhook_change(
    state: &AppState,
    kind: ChannelKind,
    url: Option<String>,
) -> AppResult<Option<Option<String>>> {
    let Some(url) = url else {
        return Ok(None);
    };
    if kind != ChannelKind::Api {
        return Err(AppError::unprocessable(
            "invalid_webhook_url",
            "webhook_url is for api channels only",
        ));
    }
    if url.trim().is_empty() {
        return Ok(Some(None));
    }
    Ok(Some(Some(crate::hooks::receiver_url(state, &url).await?)))
}
