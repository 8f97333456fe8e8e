//! What an API channel has beyond any channel: the key its business's app posts with (kept as
//! a hash) and the signed webhook its replies go out through.

use chrono::Utc;
use serde::Serialize;

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

/// Stores an API channel's key hash and, with a URL, its webhook (which carries the channel's
/// replies, `message.created` of outbound messages that are not notes).
pub fn provision(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    secrets: &ApiSecrets,
    webhook_url: Option<&str>,
) -> diesel::QueryResult<()> {
    let hash = crate::auth::keys::hash(&secrets.api_key);
    crate::store::channels::set_api_key_hash(conn, account_id, channel_id, &hash)?;
    if let Some(url) = webhook_url {
        crate::store::hooks::create_for_channel(
            conn,
            account_id,
            channel_id,
            url,
            &secrets.webhook_secret,
            Utc::now().naive_utc(),
        )?;
    }
    Ok(())
}
