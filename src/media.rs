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

use crate::config::Config;
use crate::model::MediaKind;
use crate::store::media::Kept;
pub use crate::store::media::{attachment, describe};
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
