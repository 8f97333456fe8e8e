//! Meta webhooks (Messenger, Instagram Direct): signature check and parsing into commands.

use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use super::directory::Route;
use crate::model::{
    AccountId, ChannelId, ChannelKind, Command, Deleted, Delivered, InboundMessage, Reaction, Read,
};

/// Which Meta product a delivery is for; also the channel kind it routes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// Facebook Messenger (`object: "page"`).
    Messenger,
    /// Instagram Direct (`object: "instagram"`).
    Instagram,
}

impl Product {
    /// The channel kind that receives this product's deliveries.
    pub fn channel_kind(self) -> ChannelKind {
        match self {
            Self::Messenger => ChannelKind::Facebook,
            Self::Instagram => ChannelKind::Instagram,
        }
    }

    fn object(self) -> &'static str {
        match self {
            Self::Messenger => "page",
            Self::Instagram => "instagram",
        }
    }
}

/// Checks `X-Hub-Signature-256: sha256=<hex>` over the raw body, in constant time.
pub fn signature_valid(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A webhook delivery: entries per page or Instagram account.
#[derive(Debug, Deserialize)]
pub struct Delivery {
    /// `page` or `instagram`.
    pub object: String,
    /// One entry per page or account.
    #[serde(default)]
    pub entry: Vec<Entry>,
}

/// The events of one page or account.
#[derive(Debug, Deserialize)]
pub struct Entry {
    /// Page id or Instagram account id.
    pub id: String,
    /// Events for the app that owns the conversation.
    #[serde(default)]
    pub messaging: Vec<Value>,
    /// Events seen while another app owns the conversation (handover protocol).
    #[serde(default)]
    pub standby: Vec<Value>,
}

/// Why a delivery could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not JSON, or not a webhook delivery.
    #[error("malformed delivery: {0}")]
    Malformed(String),
    /// A delivery for the other product's endpoint.
    #[error("object '{0}' does not belong on this endpoint")]
    WrongObject(String),
}

/// Parses the raw body straight into a delivery; NUL characters, which no database column can
/// keep, are dropped from every string of its events so they are stored without them.
pub fn parse(product: Product, body: &[u8]) -> Result<Delivery, ParseError> {
    let mut delivery: Delivery =
        serde_json::from_slice(body).map_err(|e| ParseError::Malformed(e.to_string()))?;
    for entry in &mut delivery.entry {
        entry
            .messaging
            .iter_mut()
            .chain(entry.standby.iter_mut())
            .for_each(strip_nul);
    }
    if delivery.object != product.object() {
        return Err(ParseError::WrongObject(delivery.object));
    }
    Ok(delivery)
}

fn strip_nul(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => s.retain(|c| c != '\0'),
        Value::Array(items) => items.iter_mut().for_each(strip_nul),
        Value::Object(map) => map.values_mut().for_each(strip_nul),
        _ => {}
    }
}

fn millis(value: Option<&Value>) -> DateTime<Utc> {
    value
        .and_then(Value::as_i64)
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .unwrap_or_else(Utc::now)
}

/// A receipt's `watermark`: everything sent at or before it is delivered (or read).
fn watermark(receipt: &Value) -> Option<DateTime<Utc>> {
    receipt["watermark"]
        .as_i64()
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
}

fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_string)
}

/// Where a messaging event came from: the channel, and who wrote to whom.
struct Origin {
    account_id: AccountId,
    channel_id: ChannelId,
    sender: String,
    recipient: String,
    sent_at: DateTime<Utc>,
}

/// Turns one messaging (or standby) event of a channel into commands; unknown kinds give none.
pub fn commands_for(
    event: &Value,
    account_id: AccountId,
    channel_id: ChannelId,
    own_id: &str,
) -> Vec<Command> {
    let id = |field: &str| event[field]["id"].as_str().unwrap_or_default().to_string();
    let origin = Origin {
        account_id,
        channel_id,
        sender: id("sender"),
        recipient: id("recipient"),
        sent_at: millis(event.get("timestamp")),
    };
    let command = if let Some(message) = event.get("message") {
        message_command(message, origin, own_id)
    } else if let Some(postback) = event.get("postback") {
        let timestamp = event["timestamp"].as_i64().unwrap_or_default();
        Some(postback_command(postback, origin, timestamp))
    } else if let Some(reaction) = event.get("reaction") {
        reaction_command(reaction, origin)
    } else if let Some(delivery) = event.get("delivery") {
        Some(delivery_command(delivery, origin))
    } else if let Some(read) = event.get("read") {
        watermark(read).map(|watermark| {
            Command::Read(Read {
                account_id,
                channel_id,
                contact_external_id: origin.sender,
                watermark,
            })
        })
    } else {
        None
    };
    command.into_iter().collect()
}

/// A message: the customer's, our page's own coming back (an echo), or an unsend.
fn message_command(message: &Value, origin: Origin, own_id: &str) -> Option<Command> {
    let mid = message["mid"].as_str()?.to_string();
    let Origin {
        account_id,
        channel_id,
        ..
    } = origin;
    if message["is_deleted"].as_bool() == Some(true) {
        return Some(Command::Deleted(Deleted {
            account_id,
            channel_id,
            external_id: mid,
        }));
    }
    let attachments = attachments(message);
    if message["is_echo"].as_bool() == Some(true) || origin.sender == own_id {
        return Some(Command::Echo(InboundMessage {
            account_id,
            channel_id,
            contact_external_id: origin.recipient,
            external_id: mid,
            text: text(message.get("text")),
            attachments,
            reply_to: None,
            sent_at: origin.sent_at,
            uploads: None,
        }));
    }
    let mut body = text(message.get("text"));
    if body.is_none() && message["is_unsupported"].as_bool() == Some(true) {
        body = Some("[unsupported message]".to_string());
    }
    let reply_to = text(message["reply_to"].get("mid")).or_else(|| {
        message["reply_to"]
            .get("story")
            .map(|s| format!("story:{}", s["id"].as_str().unwrap_or_default()))
    });
    Some(Command::Inbound(InboundMessage {
        account_id,
        channel_id,
        contact_external_id: origin.sender,
        external_id: mid,
        text: body,
        attachments,
        reply_to,
        sent_at: origin.sent_at,
        uploads: None,
    }))
}

/// A button the customer pressed: a customer message with the button's title.
fn postback_command(postback: &Value, origin: Origin, timestamp: i64) -> Command {
    let sender = origin.sender;
    let mid = text(postback.get("mid")).unwrap_or_else(|| format!("postback:{sender}:{timestamp}"));
    Command::Inbound(InboundMessage {
        account_id: origin.account_id,
        channel_id: origin.channel_id,
        contact_external_id: sender,
        external_id: mid,
        text: text(postback.get("title")),
        attachments: postback
            .get("payload")
            .map(|p| serde_json::json!([{"type": "postback", "payload": p}])),
        reply_to: None,
        sent_at: origin.sent_at,
        uploads: None,
    })
}

/// A reaction annotates the message it is on; it is not a message of its own.
fn reaction_command(reaction: &Value, origin: Origin) -> Option<Command> {
    let target = text(reaction.get("mid"))?;
    let emoji = match reaction["action"].as_str() {
        Some("unreact") => None,
        _ => Some(
            text(reaction.get("emoji"))
                .or_else(|| text(reaction.get("reaction")))
                .filter(|e| !e.trim().is_empty())?,
        ),
    };
    Some(Command::Reaction(Reaction {
        account_id: origin.account_id,
        channel_id: origin.channel_id,
        target_external_id: target,
        emoji,
    }))
}

/// A delivery receipt: the message ids Meta names (it may leave them out) and its watermark.
fn delivery_command(delivery: &Value, origin: Origin) -> Command {
    let mids = delivery["mids"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Command::Delivered(Delivered {
        account_id: origin.account_id,
        channel_id: origin.channel_id,
        contact_external_id: origin.sender,
        mids,
        watermark: watermark(delivery),
    })
}

/// `[{type, url}]` from a message's attachments (quick replies ride along as a payload).
fn attachments(message: &Value) -> Option<Value> {
    let mut out: Vec<Value> = message["attachments"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|a| {
                    serde_json::json!({
                        "type": a["type"].as_str().unwrap_or("file"),
                        "url": a["payload"]["url"].as_str(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(payload) = message["quick_reply"].get("payload") {
        out.push(serde_json::json!({"type": "quick_reply", "payload": payload}));
    }
    (!out.is_empty()).then_some(Value::Array(out))
}

/// Verifies, parses and stores one delivery. Answers only once every event is durable;
/// a store that cannot commit is a 503, so Meta retries. An event the store refuses (it can
/// never be stored) is acknowledged with the rest: the writer keeps it in the audit log, and
/// it is counted, instead of being redelivered forever.
pub async fn receive(
    state: &crate::app::AppState,
    product: Product,
    signature: Option<&str>,
    body: &[u8],
) -> crate::error::AppResult<usize> {
    use crate::error::AppError;
    let Some(secret) = state.config.meta_app_secret.as_ref() else {
        tracing::error!("META_APP_SECRET is not set: cannot verify a Meta delivery");
        return Err(AppError::unavailable(
            "not_configured",
            "webhook verification is not configured",
        ));
    };
    if !signature_valid(secret.expose(), body, signature) {
        tracing::warn!(
            product = ?product,
            present = signature.is_some(),
            bytes = body.len(),
            "rejected a Meta delivery with a missing or wrong signature"
        );
        return Err(AppError::unauthorized(
            "invalid_signature",
            "X-Hub-Signature-256 is missing or does not match the body",
        ));
    }
    let delivery =
        parse(product, body).map_err(|e| AppError::bad_request("invalid_json", e.to_string()))?;

    let kind = product.channel_kind();
    let routes = routes(state, kind, &delivery.entry).await?;
    let mut timed: Vec<(i64, Command)> = Vec::new();
    for (entry, route) in delivery.entry.iter().zip(routes) {
        let Some(route) = route else {
            tracing::warn!(%kind, external_id = %entry.id, "delivery for an unknown or inactive channel; acknowledged and ignored");
            continue;
        };
        for event in entry.messaging.iter().chain(&entry.standby) {
            let at = event["timestamp"].as_i64().unwrap_or_default();
            for command in commands_for(
                event,
                AccountId(route.account_id),
                ChannelId(route.channel_id),
                &entry.id,
            ) {
                timed.push((at, command));
            }
        }
    }
    // Stable: events with the same timestamp keep Meta's order.
    timed.sort_by_key(|(at, _)| *at);
    let count = timed.len();
    let results = state
        .bus
        .submit_all(timed.into_iter().map(|(_, c)| c).collect())
        .await;
    for result in results {
        match result {
            Ok(_) => {}
            Err(e) if e.is_transient() => return Err(e.into()),
            Err(_) => state.metrics.meta_event_refused(),
        }
    }
    Ok(count)
}

/// Where each entry's events go (`None`: no active channel has that page or account id):
/// from the directory, reading the database only for pages it does not know.
async fn routes(
    state: &crate::app::AppState,
    kind: ChannelKind,
    entries: &[Entry],
) -> crate::error::AppResult<Vec<Option<Route>>> {
    let mut routes = Vec::with_capacity(entries.len());
    let mut unknown = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        match state.channel_directory.get(kind, &entry.id) {
            Ok(route) => routes.push(Some(route)),
            Err(miss) => {
                routes.push(None);
                unknown.push((i, entry.id.clone(), miss));
            }
        }
    }
    if unknown.is_empty() {
        return Ok(routes);
    }
    let ids: Vec<String> = unknown.iter().map(|(_, id, _)| id.clone()).collect();
    let found = state
        .db()
        .run(move |conn| {
            ids.iter()
                .map(|id| crate::store::channels::find_by_external(conn, kind, id))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    for ((i, id, miss), channel) in unknown.into_iter().zip(found) {
        if let Some(channel) = channel {
            let route = Route {
                account_id: channel.account_id,
                channel_id: channel.id,
            };
            state.channel_directory.keep(&miss, kind, &id, route);
            routes[i] = Some(route);
        }
    }
    Ok(routes)
}

/// Answers Meta's subscription handshake: the challenge when the token matches.
pub fn handshake(
    state: &crate::app::AppState,
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
) -> crate::error::AppResult<String> {
    use crate::error::AppError;
    let expected = state
        .config
        .meta_verify_token
        .as_ref()
        .map(|t| t.expose().as_bytes());
    let given = token.map(str::as_bytes);
    let matches = match (expected, given) {
        (Some(e), Some(g)) => {
            e.len() == g.len() && e.iter().zip(g).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        }
        _ => false,
    };
    if mode != Some("subscribe") || !matches {
        tracing::warn!("Meta webhook handshake refused");
        return Err(AppError::forbidden("the verify token does not match"));
    }
    challenge
        .map(str::to_string)
        .ok_or_else(|| AppError::bad_request("missing_challenge", "hub.challenge is required"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked_over_raw_bytes() {
        let body = br#"{"a":"\u00fc"}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(body);
        let good = format!(
            "sha256={}",
            crate::tokens::hex(&mac.finalize().into_bytes())
        );
        assert!(signature_valid("secret", body, Some(&good)));
        assert!(!signature_valid("other", body, Some(&good)));
        assert!(!signature_valid(
            "secret",
            "{\"a\":\"ü\"}".as_bytes(),
            Some(&good)
        ));
        assert!(!signature_valid("secret", body, None));
        assert!(!signature_valid("secret", body, Some("sha256=zz")));
    }

    #[test]
    fn echoes_deliveries_reads_and_deletions_become_their_commands() {
        let echo = serde_json::json!({"sender":{"id":"P"},"recipient":{"id":"U"},"timestamp":1,"message":{"mid":"m","is_echo":true,"text":"x"}});
        assert!(matches!(
            commands_for(&echo, AccountId(1), ChannelId(2), "P")[0],
            Command::Echo(_)
        ));
        let deleted = serde_json::json!({"sender":{"id":"U"},"recipient":{"id":"P"},"timestamp":1,"message":{"mid":"m","is_deleted":true}});
        assert!(matches!(
            commands_for(&deleted, AccountId(1), ChannelId(2), "P")[0],
            Command::Deleted(_)
        ));
        let read = serde_json::json!({"sender":{"id":"U"},"recipient":{"id":"P"},"timestamp":1,"read":{"watermark":5}});
        assert!(matches!(
            commands_for(&read, AccountId(1), ChannelId(2), "P")[0],
            Command::Read(_)
        ));
        let watermark_only = serde_json::json!({"sender":{"id":"U"},"recipient":{"id":"P"},"timestamp":9,"delivery":{"watermark":7}});
        assert!(
            matches!(&commands_for(&watermark_only, AccountId(1), ChannelId(2), "P")[0], Command::Delivered(d) if d.contact_external_id == "U" && d.mids.is_empty() && d.watermark.is_some_and(|w| w.timestamp_millis() == 7))
        );
        let reaction = serde_json::json!({"sender":{"id":"U"},"recipient":{"id":"P"},"timestamp":1,"reaction":{"mid":"m","action":"react","emoji":"👍"}});
        assert!(
            matches!(&commands_for(&reaction, AccountId(1), ChannelId(2), "P")[0], Command::Reaction(r) if r.target_external_id == "m" && r.emoji.as_deref() == Some("👍"))
        );
        let unreact = serde_json::json!({"sender":{"id":"U"},"recipient":{"id":"P"},"timestamp":1,"reaction":{"mid":"m","action":"unreact"}});
        assert!(matches!(
            &commands_for(&unreact, AccountId(1), ChannelId(2), "P")[0],
            Command::Reaction(Reaction { emoji: None, .. })
        ));
        let unknown = serde_json::json!({"sender":{"id":"U"},"recipient":{"id":"P"},"timestamp":1,"optin":{}});
        assert!(commands_for(&unknown, AccountId(1), ChannelId(2), "P").is_empty());
    }
}
