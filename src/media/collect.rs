//! Removing objects no row holds any more: the bytes of erased messages and accounts, noted
//! in the erasing transaction and removed from the media store after it commits.

use chrono::Utc;

use super::store::{MediaStore, StoreError};
use crate::store::erase::ALL_OBJECTS;
use crate::store::Db;

/// Notes looked at per pass.
const BATCH: i64 = 100;

/// Why collecting failed.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The database could not be read or written.
    #[error("database: {0}")]
    Database(String),
    /// The media store did not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E: std::fmt::Display> From<crate::store::DbError<E>> for CollectError {
    fn from(e: crate::store::DbError<E>) -> Self {
        Self::Database(e.to_string())
    }
}

/// Removes every object of an erased account and forgets its notes; returns how many objects.
pub async fn account_objects(
    db: &Db,
    store: &MediaStore,
    account_id: i64,
) -> Result<usize, CollectError> {
    let removed = store.delete_account(account_id).await?;
    db.run(move |conn| crate::store::media::forget_account_garbage(conn, account_id))
        .await?;
    Ok(removed)
}

/// One pass over the notes: each object no row of its account holds is removed (a whole
/// account's, for an erased account); returns how many notes were settled.
pub async fn collect(db: &Db, store: &MediaStore) -> Result<usize, CollectError> {
    let notes = db
        .run(|conn| crate::store::media::garbage(conn, BATCH))
        .await?;
    let mut settled = 0;
    for (id, account_id, sha256) in notes {
        if sha256 == ALL_OBJECTS {
            account_objects(db, store, account_id).await?;
            settled += 1;
            continue;
        }
        let hash = sha256.clone();
        let used = db
            .run(move |conn| crate::store::media::still_used(conn, account_id, &hash))
            .await?;
        if !used {
            store.delete(account_id, &sha256).await?;
            tracing::info!(account_id, %sha256, at = %Utc::now(), "removed media no message holds");
        }
        db.run(move |conn| crate::store::media::forget_garbage(conn, id))
            .await?;
        settled += 1;
    }
    Ok(settled)
}
