//! SQLite's WAL checkpoints on a thread of their own, so the store's writer does not stop to
//! copy its pages back into the database file and wait for them to reach the disk.
//!
//! After each commit the writer nudges this thread, which then runs a passive checkpoint on a
//! connection of its own: it copies what is committed and never blocks a writer. When the WAL
//! reaches `wal_autocheckpoint` pages, the committing connection still checkpoints as before,
//! but finds almost everything already copied, so that checkpoint is short, and the WAL starts
//! again from its beginning. Durability is SQLite's either way: a commit is in the WAL first.

use std::sync::mpsc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::ManageConnection;

use super::connection::{DatabaseUrl, DbConnection};
use super::Db;

/// The least time between two checkpoints: each copies what a few commits wrote, and an idle
/// hub runs none.
const PAUSE: Duration = Duration::from_millis(5);

/// The writer's handle on the checkpoint thread; the thread ends when this is dropped.
#[derive(Debug)]
pub struct Checkpoints {
    wake: mpsc::SyncSender<()>,
}

impl Checkpoints {
    /// Starts the checkpoint thread for a SQLite database (`None` for the others, whose
    /// servers do this themselves).
    pub fn spawn(db: &Db) -> std::io::Result<Option<Self>> {
        if !matches!(db.url(), DatabaseUrl::Sqlite(_)) {
            return Ok(None);
        }
        let conn = db.manager.connect().map_err(std::io::Error::other)?;
        let (wake, nudged) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || run(conn, &nudged))?;
        Ok(Some(Self { wake }))
    }

    /// Asks for a checkpoint soon; never waits (one nudge pending is enough).
    pub fn nudge(&self) {
        let _ = self.wake.try_send(());
    }
}

fn run(mut conn: DbConnection, nudged: &mpsc::Receiver<()>) {
    while nudged.recv().is_ok() {
        if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);") {
            tracing::warn!(error = %e, "WAL checkpoint failed; the writer's own checkpoints go on");
        }
        std::thread::sleep(PAUSE);
    }
}

/// The size of the database file once it has reached `at_least` bytes, or after 10 s.
#[cfg(test)]
pub(crate) async fn size_after_growing(file: &std::path::Path, at_least: u64) -> u64 {
    let size = || std::fs::metadata(file).map_or(0, |m| m.len());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while size() < at_least && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    size()
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;

    use super::{size_after_growing, Checkpoints};
    use crate::store::connection::DatabaseUrl;
    use crate::store::Db;

    #[tokio::test]
    async fn a_nudge_copies_committed_pages_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.db");
        let db = Db::connect(&DatabaseUrl::sqlite_file(file.clone()), 2)
            .await
            .unwrap();
        let checkpoints = Checkpoints::spawn(&db).unwrap().unwrap();
        // About 1 MiB committed: it stays in the WAL, far below the autocheckpoint's 8,000 pages.
        db.run(|conn| {
            conn.batch_execute(
                "CREATE TABLE filler (body BLOB); \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) \
                 INSERT INTO filler SELECT randomblob(1000) FROM n;",
            )
        })
        .await
        .unwrap();
        let before = std::fs::metadata(&file).unwrap().len();
        assert!(
            before < 500_000,
            "the pages are not in the file yet: {before} bytes"
        );

        checkpoints.nudge();
        let after = size_after_growing(&file, before + 1_000_000).await;
        assert!(
            after >= before + 1_000_000,
            "the checkpoint copied the committed pages: {after} bytes, {before} before"
        );
    }
}
