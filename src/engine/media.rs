//! Attachments in the engine: a channel's attachments recorded for the fetcher with the message
//! that carries them, uploads given to the reply that sends them, a fetch's outcome recorded
//! on its message (`message.updated`), and an unsent message's media erased.

use std::collections::HashSet;

use serde_json::Value;

use super::record::Recorder;
use super::rule::{Rule, Ruled};
use crate::model::{ChannelKind, MediaState, Message, RecordMedia, Refusal, VisitorUploads};
use crate::store::connection::DbConnection;
use crate::store::media::{self, MediaRow, NewMedia};
use crate::store::messages;

/// Records each attachment of a channel's message that the hub keeps (an image, video, audio
/// or file with a URL) as due for the fetcher, and describes it on the message as `pending`.
pub(super) fn adopt_inbound(
    conn: &mut DbConnection,
    mut message: Message,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<Message> {
    let Some(mut items) = message
        .attachments
        .as_deref()
        .and_then(|a| serde_json::from_str::<Vec<Value>>(a).ok())
    else {
        return Ok(message);
    };
    let mut adopted = false;
    for item in &mut items {
        let kind = item["type"].as_str().and_then(crate::model::declared_kind);
        let (Some(kind), Some(url)) = (kind, item["url"].as_str()) else {
            continue;
        };
        let row = media::insert(
            conn,
            &NewMedia {
                account_id: message.account_id,
                chat_id: message.chat_id,
                message_id: Some(message.id),
                origin: "inbound".into(),
                state: MediaState::Pending,
                source_url: Some(url.to_string()),
                kind,
                name: url_name(url),
                content_type: None,
                size: None,
                sha256: None,
                thumbnail: false,
                next_attempt_at: Some(now),
                uploaded_by: None,
                visitor_session: None,
                created_at: now,
                updated_at: now,
            },
        )?;
        *item = media::attachment(&row);
        adopted = true;
    }
    if adopted {
        let json = Value::Array(items).to_string();
        messages::set_attachments(conn, message.id, Some(&json), message.updated_at)?;
        message.attachments = Some(json);
    }
    Ok(message)
}

/// The file name in a URL's path, when it has one that looks like a name.
fn url_name(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let last = path.rsplit('/').next()?;
    last.contains('.')
        .then(|| crate::model::safe_name(last))
        .flatten()
}

/// The uploads a reply carries, checked against what the chat's channel takes: each must be a
/// file uploaded to this chat and not yet sent.
pub(super) fn for_reply(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    ids: &[i64],
    kind: Option<ChannelKind>,
) -> Result<Vec<MediaRow>, super::rule::Stop> {
    let rows = media::sendable(conn, account_id, chat_id, ids)?;
    if let Some(missing) = ids.iter().find(|id| !rows.iter().any(|r| r.id == **id)) {
        return Err(Refusal::NoSuchAttachment(*missing).into());
    }
    let Some(kind) = kind else {
        return Ok(rows);
    };
    for row in &rows {
        let size = row.size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0);
        let why = match kind.media_limit(row.kind) {
            None => Some(format!(
                "{} takes no {} attachments",
                kind.label(),
                row.kind
            )),
            Some(limit) if size > limit => Some(format!(
                "{} takes {} files up to {} MB; this one has {:.1} MB",
                kind.label(),
                row.kind,
                limit / 1_000_000,
                size as f64 / 1_000_000.0
            )),
            Some(_) => None,
        };
        if let Some(why) = why {
            return Err(Refusal::AttachmentRefused {
                channel: kind.label(),
                kind: row.kind.as_str(),
                why,
            }
            .into());
        }
    }
    Ok(rows)
}

/// The uploads a widget visitor's message carries, in its order: each must be this session's
/// upload to `chat_id`, not yet sent, and not `claimed` by an earlier message; those it takes
/// join `claimed`.
pub(super) fn for_visitor(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: Option<i64>,
    uploads: &VisitorUploads,
    claimed: &mut HashSet<i64>,
) -> diesel::QueryResult<Result<Vec<MediaRow>, Refusal>> {
    let ids: Vec<i64> = uploads.ids.iter().map(|id| id.0).collect();
    let rows = match chat_id {
        Some(chat_id) => media::sendable(conn, account_id, chat_id, &ids)?,
        None => Vec::new(),
    };
    let mut taken: Vec<MediaRow> = Vec::with_capacity(ids.len());
    for id in &ids {
        let row = rows.iter().find(|r| {
            r.id == *id && r.visitor_session.as_deref() == Some(uploads.session_id.as_str())
        });
        match row {
            Some(row) if !claimed.contains(id) && !taken.iter().any(|t| t.id == *id) => {
                taken.push(row.clone());
            }
            _ => return Ok(Err(Refusal::NoSuchAttachment(*id))),
        }
    }
    claimed.extend(ids);
    Ok(Ok(taken))
}

/// The attachments JSON of a message that carries these uploads.
pub(super) fn describe_uploads(files: &[MediaRow]) -> Option<String> {
    media::describe(None, files)
}

/// A fetch's final outcome: the row settles, its message shows it (`message.updated`). An
/// outcome for a row that is no longer pending (another process settled it) changes nothing.
impl Rule for RecordMedia {
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let account_id = self.account_id.0;
        let Some(row) = media::find(conn, account_id, self.media_id.0)? else {
            return Ok(());
        };
        if row.state != MediaState::Pending {
            return Ok(());
        }
        let now = rec.now.naive_utc();
        media::settle(
            conn,
            row.id,
            self.outcome.as_ref().map_err(String::as_str),
            self.attempts,
            now,
        )?;
        let Some(message_id) = row.message_id else {
            return Ok(());
        };
        let settled = media::find(conn, account_id, row.id)?.ok_or(diesel::NotFound)?;
        let message = messages::message(conn, message_id)?;
        let json = media::describe(message.attachments.as_deref(), &[settled]);
        messages::set_attachments(conn, message_id, json.as_deref(), now)?;
        rec.message_updated(conn, account_id, message_id)?;
        Ok(())
    }
}

/// Erases the media of an unsent message: its rows now, its objects (unless other rows hold
/// the same bytes) by the media worker after commit; the message says they were removed.
pub(super) fn erase_of_message(
    conn: &mut DbConnection,
    message: &Message,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<()> {
    let hashes = media::delete_of_message(conn, message.id)?;
    if hashes.is_empty() && media::of_message(conn, message.id)?.is_empty() {
        let had_media = message
            .attachments
            .as_deref()
            .is_some_and(|a| a.contains("\"state\""));
        if !had_media {
            return Ok(());
        }
    }
    media::discard(conn, message.account_id, &hashes, now)?;
    let kept: Option<String> = message
        .attachments
        .as_deref()
        .and_then(|a| serde_json::from_str::<Vec<Value>>(a).ok())
        .map(|items| {
            items
                .into_iter()
                .filter(|i| i.get("state").is_none())
                .collect::<Vec<_>>()
        })
        .filter(|items| !items.is_empty())
        .map(|items| Value::Array(items).to_string());
    messages::set_attachments(conn, message.id, kept.as_deref(), now)?;
    Ok(())
}
