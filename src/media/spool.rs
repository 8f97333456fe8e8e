//! Receiving a file: its bytes go to a temporary file as they arrive (never held whole in
//! memory), hashed and counted on the way, and refused once they pass the limit.

use std::path::Path;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use super::sniff::HEAD_BYTES;

/// A file received in full: where it waits, its size, hash and first bytes.
pub struct Spooled {
    /// The file, positioned at its start.
    pub file: tokio::fs::File,
    /// Removes the file when dropped.
    _path: tempfile::TempPath,
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// The first bytes, to tell the type.
    pub head: Vec<u8>,
    /// Where it waits (the thumbnailer reads it).
    pub path: std::path::PathBuf,
}

/// Why a file could not be received.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// Larger than allowed; nothing past the limit was read.
    #[error("larger than {0} bytes")]
    TooLarge(u64),
    /// The sender's stream broke off.
    #[error("the transfer broke off: {0}")]
    Source(String),
    /// The temporary file could not be written.
    #[error("could not write a temporary file: {0}")]
    Disk(String),
}

impl From<std::io::Error> for SpoolError {
    fn from(e: std::io::Error) -> Self {
        Self::Disk(e.to_string())
    }
}

/// Receives `stream` into a temporary file in `dir`, at most `max` bytes.
pub async fn spool<S, E>(dir: &Path, stream: S, max: u64) -> Result<Spooled, SpoolError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::fmt::Display,
{
    tokio::fs::create_dir_all(dir).await?;
    let named = tempfile::Builder::new().prefix("spool-").tempfile_in(dir)?;
    let (file, temp_path) = named.into_parts();
    let path = temp_path.to_path_buf();
    let mut file = tokio::fs::File::from_std(file);
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    tokio::pin!(stream);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| SpoolError::Source(e.to_string()))?;
        size = size.saturating_add(chunk.len() as u64);
        if size > max {
            return Err(SpoolError::TooLarge(max));
        }
        if head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(chunk.get(..take).unwrap_or_default());
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    file.sync_data().await?;
    file.rewind().await?;
    Ok(Spooled {
        file,
        _path: temp_path,
        size,
        sha256: crate::tokens::hex(&hasher.finalize()),
        head,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        futures_util::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn a_file_is_hashed_counted_and_removed_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let spooled = spool(dir.path(), chunks(&[b"ab", b"c"]), 3).await.unwrap();
        assert_eq!(spooled.size, 3);
        assert_eq!(
            spooled.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(spooled.head, b"abc");
        let path = spooled.path.clone();
        assert!(path.exists());
        drop(spooled);
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn reading_stops_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let result = spool(dir.path(), chunks(&[b"ab", b"cd"]), 3).await;
        assert!(matches!(result, Err(SpoolError::TooLarge(3))));
    }
}
