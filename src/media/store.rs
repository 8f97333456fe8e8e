//! The media store: content-addressed objects in a local folder or an S3-compatible bucket,
//! behind one small interface.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{GetOptions, GetRange, MultipartUpload, ObjectStore, PutPayload};
use tokio::io::AsyncReadExt;

use crate::config::{MediaConfig, MediaLocation};

/// The part size of a bucket: S3 takes no part under 5 MiB but the last.
const S3_PART_BYTES: usize = 5 * 1024 * 1024;
/// The part size of a folder, which takes parts of any size.
const FOLDER_PART_BYTES: usize = 256 * 1024;

/// Why the media store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object is not there.
    #[error("no such object")]
    NotFound,
    /// The store is down or refused: try again later.
    #[error("the media store is unavailable: {0}")]
    Unavailable(String),
}

impl From<object_store::Error> for StoreError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => Self::NotFound,
            other => Self::Unavailable(other.to_string()),
        }
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// An object read back: its bytes as a stream, the range they cover and the object's size.
pub struct Object {
    /// The bytes.
    pub stream: BoxStream<'static, Result<Bytes, StoreError>>,
    /// The byte range returned.
    pub range: Range<u64>,
    /// The whole object's size.
    pub size: u64,
}

/// The store of kept media.
#[derive(Clone)]
pub struct MediaStore {
    objects: Arc<dyn ObjectStore>,
    describe: String,
    /// Files up to this size go up in one request; larger ones in parts of this size, each
    /// read and sent before the next is read, so one part is all a file costs in memory.
    part_bytes: usize,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

/// The key of an object: account-scoped, named by the SHA-256 of its bytes.
pub fn key(account_id: i64, sha256: &str, thumbnail: bool) -> Key {
    let name = if thumbnail {
        format!("{sha256}.thumb")
    } else {
        sha256.to_string()
    };
    Key::from_iter([account_id.to_string(), name])
}

impl MediaStore {
    /// Opens the configured store (a folder is created when missing).
    pub fn open(config: &MediaConfig) -> anyhow::Result<Self> {
        match &config.location {
            MediaLocation::Folder(dir) => {
                std::fs::create_dir_all(dir)?;
                let local = LocalFileSystem::new_with_prefix(dir)?;
                Ok(Self {
                    objects: Arc::new(local),
                    describe: format!("folder {}", dir.display()),
                    part_bytes: FOLDER_PART_BYTES,
                })
            }
            MediaLocation::S3 {
                bucket,
                endpoint,
                region,
            } => {
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_region(region);
                if let Some(key) = &config.s3_access_key_id {
                    builder = builder.with_access_key_id(key);
                }
                if let Some(secret) = &config.s3_secret_access_key {
                    builder = builder.with_secret_access_key(secret.expose());
                }
                if let Some(endpoint) = endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                Ok(Self {
                    objects: Arc::new(builder.build()?),
                    describe: format!("bucket {bucket}"),
                    part_bytes: S3_PART_BYTES,
                })
            }
        }
    }

    /// What the store is, for the log.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Whether an object is there.
    pub async fn exists(&self, key: &Key) -> Result<bool, StoreError> {
        match self.objects.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Keeps the bytes of `file` (`size` bytes) under `key` unless an object is there already
    /// (equal keys hold equal bytes, so it is never overwritten). The object appears whole or
    /// not at all.
    pub async fn put_file(
        &self,
        key: &Key,
        file: &mut tokio::fs::File,
        size: u64,
    ) -> Result<(), StoreError> {
        if self.exists(key).await? {
            return Ok(());
        }
        let part = self.part_bytes;
        if size <= part as u64 {
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(part));
            file.read_to_end(&mut bytes).await?;
            self.objects
                .put(key, PutPayload::from(Bytes::from(bytes)))
                .await?;
            return Ok(());
        }
        let mut upload = self.objects.put_multipart(key).await?;
        let sent = send_parts(upload.as_mut(), file, part).await;
        if sent.is_err() {
            if let Err(e) = upload.abort().await {
                tracing::warn!(%key, error = %e, "could not abort a multipart upload");
            }
        }
        sent
    }

    /// Keeps small bytes (a thumbnail) under `key` unless they are there already.
    pub async fn put_bytes(&self, key: &Key, bytes: Vec<u8>) -> Result<(), StoreError> {
        if self.exists(key).await? {
            return Ok(());
        }
        self.objects
            .put(key, PutPayload::from(Bytes::from(bytes)))
            .await?;
        Ok(())
    }

    /// Reads an object, or the part of it `range` names.
    pub async fn get(&self, key: &Key, range: Option<Range<u64>>) -> Result<Object, StoreError> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        let result = self.objects.get_opts(key, options).await?;
        let size = result.meta.size;
        let range = result.range.clone();
        let stream = result
            .into_stream()
            .map(|chunk| chunk.map_err(StoreError::from))
            .boxed();
        Ok(Object {
            stream,
            range,
            size,
        })
    }

    /// Removes an object and its thumbnail; one that is not there is no error.
    pub async fn delete(&self, account_id: i64, sha256: &str) -> Result<(), StoreError> {
        for thumbnail in [false, true] {
            match self
                .objects
                .delete(&key(account_id, sha256, thumbnail))
                .await
            {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Removes every object of an account; returns how many.
    pub async fn delete_account(&self, account_id: i64) -> Result<usize, StoreError> {
        let prefix = Key::from(account_id.to_string());
        let keys: Vec<Key> = self
            .objects
            .list(Some(&prefix))
            .map(|meta| meta.map(|m| m.location))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        for key in &keys {
            match self.objects.delete(key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(keys.len())
    }
}

/// Sends `file` in parts of `part` bytes, each read only once the one before is in, then
/// completes the upload (the object appears only then).
async fn send_parts(
    upload: &mut dyn MultipartUpload,
    file: &mut tokio::fs::File,
    part: usize,
) -> Result<(), StoreError> {
    loop {
        let mut bytes = Vec::with_capacity(part);
        (&mut *file)
            .take(part as u64)
            .read_to_end(&mut bytes)
            .await?;
        if bytes.is_empty() {
            break;
        }
        upload
            .put_part(PutPayload::from(Bytes::from(bytes)))
            .await?;
    }
    upload.complete().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store on a folder under `dir`.
    fn folder(dir: &std::path::Path) -> MediaStore {
        let config = MediaConfig {
            location: MediaLocation::Folder(dir.join("m")),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            max_bytes: 1 << 22,
            inline_types: Vec::new(),
            fetch_attempts: 1,
            retry_base: std::time::Duration::from_millis(1),
            sweep: std::time::Duration::from_millis(1),
            link_ttl: std::time::Duration::from_secs(1),
            widget_upload_limit: crate::ratelimit::Limit::parse("1/1").unwrap(),
        };
        MediaStore::open(&config).unwrap()
    }

    #[tokio::test]
    async fn a_folder_keeps_objects_once_and_reads_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let store = folder(dir.path());
        let path = dir.path().join("spool");
        std::fs::write(&path, b"hello media").unwrap();
        let key = key(7, "abc", false);
        let mut file = tokio::fs::File::open(&path).await.unwrap();
        store.put_file(&key, &mut file, 11).await.unwrap();
        let object = store.get(&key, Some(6..11)).await.unwrap();
        assert_eq!((object.range.clone(), object.size), (6..11, 11));
        let bytes: Vec<Bytes> = object.stream.map(|b| b.unwrap()).collect().await;
        assert_eq!(bytes.concat(), b"media");
        assert_eq!(store.delete_account(7).await.unwrap(), 1);
        assert!(matches!(
            store.get(&key, None).await,
            Err(StoreError::NotFound)
        ));
    }

    #[tokio::test]
    async fn a_file_larger_than_a_part_goes_to_a_folder_in_parts() {
        let dir = tempfile::tempdir().unwrap();
        let store = folder(dir.path());
        let content: Vec<u8> = (0..FOLDER_PART_BYTES * 2 + 1234)
            .map(|i| (i % 251) as u8)
            .collect();
        let path = dir.path().join("spool");
        std::fs::write(&path, &content).unwrap();
        let key = key(3, "big", false);
        let mut file = tokio::fs::File::open(&path).await.unwrap();
        store
            .put_file(&key, &mut file, content.len() as u64)
            .await
            .unwrap();
        let object = store.get(&key, None).await.unwrap();
        let bytes: Vec<Bytes> = object.stream.map(|b| b.unwrap()).collect().await;
        assert_eq!(bytes.concat(), content);
    }
}
