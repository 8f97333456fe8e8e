//! Meta's Graph API: the sender of Messenger and Instagram replies (the Send API, within Meta's
//! messaging window), a user's public profile (name, picture), and whose page access token a
//! token is.

use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use serde_json::{json, Value};

use reqwest::multipart::{Form, Part};

use super::platform::{DeliveredPart, Outgoing, OutgoingFile, Profile, SendError};
use crate::media::{
    self,
    store::{MediaStore, StoreError},
};
use crate::model::{ChannelKind, MediaKind};

/// How the message is allowed out (Meta's messaging policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Within 24 hours of the customer's last message.
    Standard,
    /// Up to 7 days after it, tagged as a human agent's reply.
    HumanAgent,
}

/// A client for the Graph API at the configured base URL; other senders that speak Graph
/// (outbound/) may use its connection and base URL.
#[derive(Debug, Clone)]
pub struct GraphClient {
    pub(super) http: reqwest::Client,
    pub(super) base: String,
    timeout: Duration,
}

/// The least time an attachment upload is given (files up to Meta's 25 MB go up in one call).
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(45);

/// The longest a token check waits for Meta: an admin's save is not held up by an outage.
const TOKEN_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

impl GraphClient {
    /// A client whose calls (connecting included) take at most `timeout`.
    pub fn new(base: &str, timeout: Duration) -> reqwest::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            timeout,
        })
    }

    /// Sends `text` from the page (or Instagram account) `sender_id` to `recipient`;
    /// returns Meta's `message_id`.
    pub async fn send_text(
        &self,
        sender_id: &str,
        token: &str,
        recipient: &str,
        text: &str,
        window: Window,
    ) -> Result<String, SendError> {
        let message = json!({"text": text});
        self.send_message(sender_id, token, recipient, message, window)
            .await
    }

    /// Sends one Send API `message` object from `sender_id` to `recipient` under `window`'s
    /// messaging policy; returns Meta's `message_id`.
    pub async fn send_message(
        &self,
        sender_id: &str,
        token: &str,
        recipient: &str,
        message: Value,
        window: Window,
    ) -> Result<String, SendError> {
        let mut body = json!({
            "recipient": {"id": recipient},
            "message": message,
        });
        match window {
            Window::Standard => body["messaging_type"] = json!("RESPONSE"),
            Window::HumanAgent => {
                body["messaging_type"] = json!("MESSAGE_TAG");
                body["tag"] = json!("HUMAN_AGENT");
            }
        }
        let response = self
            .http
            .post(format!("{}/{sender_id}/messages", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("Meta could not be reached: {e}")))?;
        answer(response, "message_id").await
    }

    /// Uploads a kept file to the page `page_id` through the Attachment Upload API, streamed
    /// from the media store; returns Meta's `attachment_id` for a message to carry.
    pub async fn upload_attachment(
        &self,
        page_id: &str,
        token: &str,
        store: &MediaStore,
        file: &OutgoingFile,
    ) -> Result<String, SendError> {
        let key = media::store::key(file.account_id, &file.sha256, false);
        let object = store.get(&key, None).await.map_err(|e| match e {
            StoreError::NotFound => {
                SendError::Permanent(format!("{} is no longer in the media store", file.name))
            }
            StoreError::Unavailable(why) => SendError::Transient(why),
        })?;
        let part = Part::stream_with_length(reqwest::Body::wrap_stream(object.stream), object.size)
            .file_name(file.name.clone())
            .mime_str(&file.content_type)
            .map_err(|e| SendError::Permanent(format!("{} has no usable type: {e}", file.name)))?;
        let message = json!({"attachment": {
            "type": attachment_type(file.kind),
            "payload": {"is_reusable": false},
        }});
        let form = Form::new()
            .text("message", message.to_string())
            .part("filedata", part);
        let response = self
            .http
            .post(format!("{}/{page_id}/message_attachments", self.base))
            .bearer_auth(token)
            .multipart(form)
            .timeout(self.timeout.max(UPLOAD_TIMEOUT))
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("Meta could not be reached: {e}")))?;
        answer(response, "attachment_id").await
    }
}

/// The string `field` of a successful Graph answer, or the answer's error sorted by `classify`.
async fn answer(response: reqwest::Response, field: &str) -> Result<String, SendError> {
    let status = response.status();
    let payload: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return payload[field]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| SendError::Transient(format!("Meta's answer had no {field}")));
    }
    Err(classify(status.as_u16(), &payload["error"]))
}

/// The Send API's attachment type for a kind of file.
fn attachment_type(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "image",
        MediaKind::Video => "video",
        MediaKind::Audio => "audio",
        MediaKind::File => "file",
    }
}

impl GraphClient {
    /// The profile of a Messenger or Instagram user, read with the channel's token.
    pub async fn profile(
        &self,
        kind: ChannelKind,
        user: &str,
        token: &str,
    ) -> Result<Profile, SendError> {
        let fields = if kind == ChannelKind::Instagram {
            "name,username,profile_pic"
        } else {
            "first_name,last_name,profile_pic"
        };
        let response = self
            .http
            .get(format!("{}/{user}", self.base))
            .query(&[("fields", fields)])
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("Meta could not be reached: {e}")))?;
        let status = response.status();
        let payload: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(classify(status.as_u16(), &payload["error"]));
        }
        let text = |key: &str| {
            payload[key]
                .as_str()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        };
        let full = [text("first_name"), text("last_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let name = text("name")
            .or((!full.is_empty()).then_some(full))
            .or_else(|| text("username"))
            .map(|n| n.chars().take(200).collect());
        let picture_url =
            text("profile_pic").filter(|u| u.starts_with("https://") || u.starts_with("http://"));
        Ok(Profile { name, picture_url })
    }
}

/// Sends a reply through the Send API from its channel's page (or Instagram account), under
/// the messaging policy its age allows: its text, then each file as a message of its own
/// (Messenger's uploaded first through the Attachment Upload API, Instagram's offered by a
/// signed link). Returns Meta's id of the first message.
pub async fn send(
    graph: &GraphClient,
    store: &MediaStore,
    reply: &Outgoing<'_>,
) -> Result<String, SendError> {
    let kind = reply.channel.kind;
    let window = window(kind, reply.last_inbound_at, Utc::now().naive_utc())?;
    let (Some(page), Some(token)) = (
        reply.channel.external_id.as_deref(),
        reply.channel.access_token.as_deref(),
    ) else {
        return Err(SendError::Permanent(
            "the channel has no page id or access token".into(),
        ));
    };
    for file in reply.attachments {
        accepted(kind, file)?;
    }
    let mut first = reply.text_sent.map(str::to_string);
    let mut parts: Vec<(Option<i64>, Value)> = Vec::with_capacity(reply.attachments.len() + 1);
    let has_text = !reply.text.trim().is_empty() || reply.attachments.is_empty();
    if has_text && reply.text_sent.is_none() {
        parts.push((None, json!({"text": reply.text})));
    }
    for file in reply.attachments {
        if let Some(mid) = &file.sent_mid {
            first.get_or_insert_with(|| mid.clone());
            continue;
        }
        let payload = match kind {
            ChannelKind::Facebook => json!({
                "attachment_id": graph.upload_attachment(page, token, store, file).await?,
            }),
            ChannelKind::Instagram => json!({"url": file.link}),
            ChannelKind::Widget | ChannelKind::Api => {
                return Err(SendError::Permanent(format!(
                    "{} files are not sent through Meta",
                    kind.label()
                )))
            }
        };
        let attachment = json!({"type": attachment_type(file.kind), "payload": payload});
        parts.push((Some(file.media_id), json!({ "attachment": attachment })));
    }
    for (media_id, message) in parts {
        let mid = graph
            .send_message(page, token, reply.recipient, message, window)
            .await?;
        if let Ok(mut delivered) = reply.delivered.lock() {
            delivered.push(DeliveredPart {
                media_id,
                mid: mid.clone(),
            });
        }
        first.get_or_insert(mid);
    }
    first.ok_or_else(|| SendError::Permanent("the reply had nothing to send".into()))
}

/// Whether the channel takes the file (its kind and size, Meta's limits): a file it does not
/// take is refused for good, with the reason.
fn accepted(kind: ChannelKind, file: &OutgoingFile) -> Result<(), SendError> {
    match kind.media_limit(file.kind) {
        None => Err(SendError::Permanent(format!(
            "{} takes no {} attachments: {} was not sent",
            kind.label(),
            file.kind,
            file.name
        ))),
        Some(limit) if file.size > limit => Err(SendError::Permanent(format!(
            "{} takes {} files up to {} MB; {} has {:.1} MB",
            kind.label(),
            file.kind,
            limit / 1_000_000,
            file.name,
            file.size as f64 / 1_000_000.0
        ))),
        Some(_) => Ok(()),
    }
}

/// How a reply may go out, from the kind's reply window and when the customer last wrote: an
/// ordinary reply, one tagged as a human agent's, or none (the customer has to write first).
fn window(
    kind: ChannelKind,
    last_inbound_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<Window, SendError> {
    let Some(limits) = kind.reply_window() else {
        return Ok(Window::Standard);
    };
    match last_inbound_at.map(|at| now - at) {
        Some(age) if age <= limits.standard => Ok(Window::Standard),
        Some(age) if age <= limits.tagged => Ok(Window::HumanAgent),
        _ => Err(SendError::Permanent(
            "outside Meta's 7-day window for human agents: the customer has to write first".into(),
        )),
    }
}

/// The page (or the Instagram account's page) a page access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    /// Its id.
    pub id: String,
    /// Its name, when Meta gives one.
    pub name: Option<String>,
}

impl GraphClient {
    /// Asks Graph whose token this is (`GET /me?fields=id,name` with the token): `Permanent`
    /// with Meta's own words when Graph refuses the token, `Transient` when Graph cannot be
    /// asked (unreachable, an error of its own, an answer that is not Graph's).
    pub async fn token_owner(&self, token: &str) -> Result<TokenOwner, SendError> {
        let response = self
            .http
            .get(format!("{}/me", self.base))
            .query(&[("fields", "id,name")])
            .bearer_auth(token)
            .timeout(self.timeout.min(TOKEN_CHECK_TIMEOUT))
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("Meta could not be reached: {e}")))?;
        let status = response.status();
        let payload: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            let text = |key: &str| payload[key].as_str().filter(|t| !t.is_empty());
            return match text("id") {
                Some(id) => Ok(TokenOwner {
                    id: id.to_string(),
                    name: text("name").map(str::to_string),
                }),
                None => Err(SendError::Transient("Meta's answer had no id".into())),
            };
        }
        let error = &payload["error"];
        let code = error["code"].as_i64().unwrap_or_default();
        match error["message"].as_str() {
            Some(message) if status.is_client_error() && !is_transient(status.as_u16(), code) => {
                Err(SendError::Permanent(format!("{message} (code {code})")))
            }
            _ => Err(SendError::Transient(format!(
                "Meta answered HTTP {}",
                status.as_u16()
            ))),
        }
    }
}

/// Whether a Graph error is worth trying again: 5xx, 429, rate or temporary error codes.
fn is_transient(status: u16, code: i64) -> bool {
    status >= 500 || status == 429 || matches!(code, 1 | 2 | 4 | 613 | 1200)
}

/// Sorts a Graph API error into retry or give up, with a reason an agent can act on.
pub fn classify(status: u16, error: &Value) -> SendError {
    let code = error["code"].as_i64().unwrap_or_default();
    let subcode = error["error_subcode"].as_i64().unwrap_or_default();
    let detail = error["message"].as_str().unwrap_or("no details");
    let reason = match (code, subcode) {
        (10, 2018278) => {
            "outside the messaging window: the customer has not written in the allowed time"
                .to_string()
        }
        (190, _) => {
            "the page access token is invalid or expired: reconnect the channel".to_string()
        }
        (551, _) => "this person is not available right now".to_string(),
        (100, 2018001) => {
            "no matching user: the customer cannot be reached on this page".to_string()
        }
        _ => format!("Meta refused the message: {detail} (code {code}/{subcode}, HTTP {status})"),
    };
    if is_transient(status, code) {
        SendError::Transient(reason)
    } else {
        SendError::Permanent(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_goes_out_plain_for_a_day_tagged_for_a_week_then_not_at_all() {
        let now = Utc::now().naive_utc();
        let ago = |hours: i64| Some(now - chrono::Duration::hours(hours));
        let kind = ChannelKind::Facebook;
        assert_eq!(window(kind, ago(23), now), Ok(Window::Standard));
        assert_eq!(window(kind, ago(24), now), Ok(Window::Standard));
        assert_eq!(window(kind, ago(25), now), Ok(Window::HumanAgent));
        assert_eq!(window(kind, ago(7 * 24), now), Ok(Window::HumanAgent));
        assert!(
            matches!(window(kind, ago(7 * 24 + 1), now), Err(SendError::Permanent(r)) if r.contains("7-day"))
        );
        assert!(window(kind, None, now).is_err());
    }

    #[test]
    fn a_file_meta_would_refuse_is_refused_for_good_with_the_reason() {
        let file = |kind: MediaKind, size: u64| OutgoingFile {
            media_id: 1,
            account_id: 1,
            kind,
            sha256: "ab".into(),
            size,
            name: "f".into(),
            content_type: "application/octet-stream".into(),
            link: String::new(),
            sent_mid: None,
        };
        const MB: u64 = 1_000_000;
        assert_eq!(
            accepted(ChannelKind::Facebook, &file(MediaKind::File, 25 * MB)),
            Ok(())
        );
        assert!(
            matches!(accepted(ChannelKind::Facebook, &file(MediaKind::Video, 25 * MB + 1)), Err(SendError::Permanent(r)) if r.contains("25 MB"))
        );
        assert_eq!(
            accepted(ChannelKind::Instagram, &file(MediaKind::Image, 8 * MB)),
            Ok(())
        );
        assert!(
            matches!(accepted(ChannelKind::Instagram, &file(MediaKind::Image, 8 * MB + 1)), Err(SendError::Permanent(r)) if r.contains("8 MB"))
        );
        assert!(
            matches!(accepted(ChannelKind::Instagram, &file(MediaKind::File, 10)), Err(SendError::Permanent(r)) if r.contains("no file"))
        );
    }

    #[test]
    fn each_kind_of_file_goes_as_its_send_api_type() {
        let types: Vec<&str> = MediaKind::ALL.iter().map(|k| attachment_type(*k)).collect();
        assert_eq!(types, ["image", "video", "audio", "file"]);
    }

    #[test]
    fn errors_are_sorted_into_retry_and_give_up() {
        let err = |code: i64, sub: i64| json!({"code": code, "error_subcode": sub, "message": "x"});
        assert!(matches!(
            classify(400, &err(613, 0)),
            SendError::Transient(_)
        ));
        assert!(matches!(classify(400, &err(4, 0)), SendError::Transient(_)));
        assert!(matches!(classify(500, &err(0, 0)), SendError::Transient(_)));
        assert!(matches!(classify(429, &err(0, 0)), SendError::Transient(_)));
        assert!(
            matches!(classify(400, &err(10, 2018278)), SendError::Permanent(r) if r.contains("window"))
        );
        assert!(
            matches!(classify(400, &err(190, 0)), SendError::Permanent(r) if r.contains("token"))
        );
        assert!(matches!(
            classify(400, &err(551, 0)),
            SendError::Permanent(_)
        ));
        assert!(matches!(
            classify(400, &err(100, 2018001)),
            SendError::Permanent(_)
        ));
    }
}
