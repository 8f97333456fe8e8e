//! Media: photos, voice notes, videos and files that customers and agents send, kept in the
//! media store by their content, described on their messages, and served to those who may see
//! their chat.

pub mod collect;
pub mod links;
pub mod serve;
pub mod sniff;
pub mod spool;
pub mod store;
pub mod thumbnail;
pub mod upload;

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::config::Config;
use crate::model::{MediaKind, MediaState};
use crate::store::media::{Kept, MediaRow};
use spool::Spooled;
use store::{MediaStore, StoreError};

/// The media store and what keeping a file needs.
#[derive(Debug)]
pub struct Media {
    /// Where objects are kept.
    pub store: MediaStore,
    /// Signs links that open media without a login.
    pub links: links::LinkKey,
    /// Where arriving files wait until they are kept.
    pub spool_dir: PathBuf,
    /// Types shown inline.
    pub inline: Vec<String>,
    /// Largest file kept.
    pub max_bytes: u64,
}

impl Media {
    /// Opens the configured store.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let store = MediaStore::open(&config.media)?;
        tracing::info!(store = store.describe(), "media store ready");
        Ok(Self {
            store,
            links: links::LinkKey::derive(config.jwt_secret.expose()),
            spool_dir: config.data_dir.join("tmp"),
            inline: config.media.inline_types.clone(),
            max_bytes: config.media.max_bytes,
        })
    }

    /// Keeps a received file for the account: its type from its bytes, the object under its
    /// hash (once), and a thumbnail of an image (a thumbnail that cannot be made is no error:
    /// the image is kept without one).
    pub async fn keep(&self, account_id: i64, mut file: Spooled) -> Result<Kept, StoreError> {
        let sniffed = sniff::sniff(&file.head, &self.inline);
        let key = store::key(account_id, &file.sha256, false);
        self.store.put_file(&key, &mut file.file, file.size).await?;
        let mut thumbnail = false;
        if sniffed.kind == MediaKind::Image && sniff::thumbnailed(&sniffed.content_type) {
            match thumbnail::make(file.path.clone()).await {
                Ok(bytes) => {
                    let key = store::key(account_id, &file.sha256, true);
                    self.store.put_bytes(&key, bytes).await?;
                    thumbnail = true;
                }
                Err(reason) => {
                    tracing::info!(account_id, sha256 = %file.sha256, %reason, "no thumbnail for an image");
                }
            }
        }
        Ok(Kept {
            sha256: file.sha256.clone(),
            size: i64::try_from(file.size).unwrap_or(i64::MAX),
            content_type: sniffed.content_type,
            kind: sniffed.kind,
            thumbnail,
        })
    }
}

/// How a message shows one of its kept attachments: `url` and `thumbnail_url` are the hub's
/// (`GET /api/media/{id}`, for those who may see the chat).
pub fn attachment(row: &MediaRow) -> Value {
    let stored = row.state == MediaState::Stored;
    json!({
        "id": row.id,
        "type": row.kind,
        "state": row.state,
        "reason": row.reason.as_deref().filter(|_| row.state == MediaState::Failed),
        "name": row.name,
        "size": row.size,
        "content_type": row.content_type,
        "url": stored.then(|| format!("/api/media/{}", row.id)),
        "thumbnail_url": (stored && row.thumbnail).then(|| format!("/api/media/{}/thumbnail", row.id)),
    })
}

/// A message's attachments JSON with the described rows in place of the entries they were made
/// from (matched by `id`); entries that are not media (quick replies, postbacks) stay.
pub fn describe(attachments: Option<&str>, rows: &[MediaRow]) -> Option<String> {
    let mut items: Vec<Value> = attachments
        .and_then(|a| serde_json::from_str::<Vec<Value>>(a).ok())
        .unwrap_or_default();
    for row in rows {
        let described = attachment(row);
        match items.iter_mut().find(|i| i["id"].as_i64() == Some(row.id)) {
            Some(item) => *item = described,
            None => items.push(described),
        }
    }
    (!items.is_empty()).then(|| Value::Array(items).to_string())
}
