//! The store's writers: commit bus commands in groups (one transaction for everything that
//! arrived during the last commit), in one lock order, trying a group again when another
//! writer got in the way; answer each submitter once durable, then publish, in commit order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use tokio::sync::mpsc;

use super::apply::{apply, apply_all};
use super::lock::{GroupLock, Turns};
use crate::model::{Command, Envelope, Event, Outcome, StoreError};
use crate::store::checkpoint::Checkpoints;
use crate::store::connection::{DatabaseUrl, DbConnection, DbPool};
use crate::store::Db;

/// How long the writer waits for a connection before failing a batch as unavailable.
const CONNECT_WAIT: Duration = Duration::from_secs(2);

/// Starts the writer threads (Diesel is synchronous; it never runs on async threads): `writers`
/// on PostgreSQL, one elsewhere. SQLite lets one transaction write at a time, and MySQL's
/// foreign-key checks take the account row's shared lock, which the write lock waits on.
pub fn spawn(
    db: &Db,
    publish: impl Fn(Arc<Event>) + Send + Sync + 'static,
    commands: mpsc::Receiver<Envelope>,
    max_batch: usize,
    writers: usize,
) -> std::io::Result<()> {
    let writers = match db.url() {
        DatabaseUrl::Postgres(_) => writers.max(1),
        _ => 1,
    };
    let shared = Arc::new(Writers {
        commands: Mutex::new(commands),
        turns: Turns::default(),
        order: Turns::default(),
        publish: Box::new(publish),
        max_batch: max_batch.max(1),
        late_lock: writers > 1,
        checkpoints: Checkpoints::spawn(db)?,
    });
    for _ in 0..writers {
        let (pool, shared) = (db.pool().clone(), Arc::clone(&shared));
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(&pool, &shared))?;
    }
    Ok(())
}

/// What the writer threads share: the bus, the order of their commits, where events go.
struct Writers {
    commands: Mutex<mpsc::Receiver<Envelope>>,
    turns: Turns,
    /// The order groups left the bus in: each group's first write waits for the group before
    /// it to have taken its lock, so messages are stored and numbered in the order they came.
    order: Turns,
    publish: Box<dyn Fn(Arc<Event>) + Send + Sync>,
    max_batch: usize,
    /// Several writers: a group of channel messages takes the write lock as late as it can.
    late_lock: bool,
    /// SQLite: the thread that copies what the writer committed back into the database file.
    checkpoints: Option<Checkpoints>,
}

fn run(pool: &DbPool, writers: &Writers) {
    while let Some((batch, place)) = next_batch(writers) {
        commit_batch(pool, writers, batch, place);
    }
    tracing::info!("store writer stopped: the bus is closed");
}

/// Everything waiting on the bus (at most `max_batch`), once something is; `None` once the bus
/// is closed, with the group's place in the bus's order. One writer takes a group at a time.
fn next_batch(writers: &Writers) -> Option<(Vec<Envelope>, u64)> {
    let mut commands = writers
        .commands
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let first = commands.blocking_recv()?;
    let mut batch = vec![first];
    while batch.len() < writers.max_batch {
        match commands.try_recv() {
            Ok(next) => batch.push(next),
            Err(_) => break,
        }
    }
    Some((batch, writers.order.draw()))
}

/// Commits one group; every submitter hears back only after the commit (or the failure), in
/// the group's turn.
fn commit_batch(pool: &DbPool, writers: &Writers, batch: Vec<Envelope>, place: u64) {
    let size = batch.len();
    let mut conn = match pool.get_timeout(CONNECT_WAIT) {
        Ok(conn) => conn,
        Err(e) => {
            writers.order.take(place, || {});
            return fail_all(batch, &format!("no database connection: {e}"));
        }
    };
    // The group's place in the bus's order holds for its first try; a try again comes after.
    let mut place = Some(place);
    let mut results: Vec<Result<Outcome, StoreError>> = Vec::with_capacity(size);
    let mut attempt = 0;
    // First without a savepoint per command (two statements fewer each); a command that
    // fails sends the whole group round again with savepoints, so it fails alone.
    let mut careful = false;
    let committed = loop {
        attempt += 1;
        let mut lock = GroupLock::new(batch.iter().map(|e| &e.command));
        lock.turns = Some(&writers.turns);
        lock.place = place.take().map(|place| (&writers.order, place));
        let committed = conn.transaction::<_, GroupError, _>(|conn| {
            results.clear();
            if careful || !writers.late_lock {
                lock.hold(conn)?;
            }
            if careful {
                apply_one_by_one(conn, &batch, &mut results)?;
            } else {
                match apply_all(conn, batch.iter().map(|e| &e.command), &mut lock) {
                    Ok(outcomes) => results.extend(outcomes.into_iter().map(Ok)),
                    Err(e) if is_conflict(&e) || is_outage(&e) => return Err(e.into()),
                    Err(_) => return Err(GroupError::OneFailed),
                }
            }
            lock.hold(conn)?;
            super::record::store_events(conn, results.iter_mut().filter_map(|r| r.as_mut().ok()))?;
            Ok(())
        });
        // A try that never took the lock lets the next group write.
        lock.pass_place();
        if committed.is_err() {
            // A try rolled back passes its turn on, with nothing to say.
            if let Some(turn) = lock.turn {
                writers.turns.take(turn, || {});
            }
        }
        match committed {
            Err(GroupError::OneFailed) if !careful => {
                // Not a try lost to another writer.
                attempt -= 1;
                careful = true;
            }
            Err(GroupError::Database(e)) if is_conflict(&e) && attempt < CONFLICT_ATTEMPTS => {
                tracing::info!(attempt, error = %e, "another writer got in the way; committing the group again");
                std::thread::sleep(
                    crate::retry::Backoff {
                        attempts: CONFLICT_ATTEMPTS,
                        base: Duration::from_millis(20),
                        max: Duration::from_millis(200),
                    }
                    .delay(attempt),
                );
            }
            Err(e) => break Err(e),
            Ok(()) => break Ok(lock.turn),
        }
    };
    let turn = match committed {
        Ok(turn) => turn,
        Err(e) => return fail_all(batch, &format!("commit failed: {e}")),
    };
    tracing::debug!(size, "committed a group");
    if let Some(checkpoints) = &writers.checkpoints {
        checkpoints.nudge();
    }
    let answer = || {
        for (envelope, result) in batch.into_iter().zip(results) {
            if let Ok(outcome) = &result {
                for event in outcome.events() {
                    (writers.publish)(Arc::clone(event));
                }
            }
            // A submitter that gave up is not an error.
            let _ = envelope.reply.send(result);
        }
    };
    match turn {
        Some(turn) => writers.turns.take(turn, answer),
        None => answer(),
    }
}

/// Applies a group's commands each under a savepoint, so one refused command does not sink the
/// group: it is kept in the audit log and answered with its refusal.
fn apply_one_by_one(
    conn: &mut DbConnection,
    batch: &[Envelope],
    results: &mut Vec<Result<Outcome, StoreError>>,
) -> Result<(), GroupError> {
    for envelope in batch {
        // A rule's refusal rolls its savepoint back too: nothing of the command stays.
        let result = conn.transaction(|conn| match apply(conn, &envelope.command)? {
            Outcome::Refused(refusal) => Err(Undone::Refused(refusal)),
            outcome => Ok(outcome),
        });
        results.push(match result {
            Ok(outcome) => Ok(outcome),
            Err(Undone::Refused(refusal)) => Ok(Outcome::Refused(refusal)),
            Err(Undone::Database(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _,
            ))) => {
                // Another writer (another node) stored the same message first.
                Ok(Outcome::Unchanged)
            }
            // The database gave up the whole transaction (InnoDB rolls all of it
            // back), or the connection is gone: nothing of the group may count as done.
            Err(Undone::Database(e)) if is_conflict(&e) || is_outage(&e) => return Err(e.into()),
            // The rest of the group goes on: this command's own data was refused.
            Err(Undone::Database(e)) => {
                let refused = refusal(&e);
                keep_refusal(conn, &envelope.command, &refused)?;
                Err(refused)
            }
        });
    }
    Ok(())
}

/// Why one command's savepoint was rolled back.
enum Undone {
    /// A rule said no.
    Refused(crate::model::Refusal),
    /// The database failed the command.
    Database(DieselError),
}

impl From<DieselError> for Undone {
    fn from(e: DieselError) -> Self {
        Self::Database(e)
    }
}

/// Why a group's transaction was rolled back.
#[derive(Debug)]
enum GroupError {
    /// The database failed the transaction.
    Database(DieselError),
    /// One command failed while the group ran without savepoints: it runs again with them.
    OneFailed,
}

impl From<DieselError> for GroupError {
    fn from(e: DieselError) -> Self {
        Self::Database(e)
    }
}

impl std::fmt::Display for GroupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Database(e) => e.fmt(f),
            Self::OneFailed => f.write_str("a command failed"),
        }
    }
}

/// Tries of a group that another writer (another hub process) deadlocked with.
const CONFLICT_ATTEMPTS: u32 = 5;

/// A deadlock or serialization failure: the database dropped the whole transaction, and
/// trying the group again is the cure.
fn is_conflict(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(_, info) => {
            let message = info.message().to_ascii_lowercase();
            message.contains("deadlock") || message.contains("lock wait timeout")
        }
        _ => false,
    }
}

/// The connection or the transaction itself failed: the whole group is lost, not one command.
fn is_outage(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        ) | DieselError::BrokenTransactionManager
            | DieselError::RollbackErrorOnCommit { .. }
            | DieselError::RollbackTransaction
            | DieselError::AlreadyInTransaction
            | DieselError::NotInTransaction
    )
}

/// What a refused command answers: a reference to nothing, a constraint, or data the
/// database would not take.
pub(super) fn refusal(e: &DieselError) -> StoreError {
    match e {
        DieselError::NotFound => StoreError::NotFound(e.to_string()),
        DieselError::DatabaseError(
            DatabaseErrorKind::ForeignKeyViolation | DatabaseErrorKind::CheckViolation,
            info,
        ) => StoreError::Conflict(info.message().to_string()),
        DieselError::DatabaseError(_, info) => StoreError::Rejected(info.message().to_string()),
        other => StoreError::Rejected(other.to_string()),
    }
}

/// Keeps a refused command in the account's audit log (same transaction), so an operator sees
/// what was not stored and why; a Meta event is acknowledged after this, never redelivered.
fn keep_refusal(
    conn: &mut DbConnection,
    command: &Command,
    refused: &StoreError,
) -> QueryResult<()> {
    tracing::warn!(command = command.name(), error = %refused, "the store refused a command; kept in the audit log");
    let mut details = serde_json::json!({"command": command.name(), "reason": refused.to_string()});
    let mut target = None;
    if let Command::Inbound(m) | Command::Echo(m) = command {
        details["channel_id"] = m.channel_id.0.into();
        details["contact_external_id"] = m.contact_external_id.clone().into();
        details["text"] = m.text.clone().into();
        target = Some(m.external_id.clone());
    }
    crate::store::audit::record(
        conn,
        crate::store::audit::NewEntry {
            account_id: command.account_id().0,
            action: "store.rejected",
            target_type: target.as_ref().map(|_| "message"),
            target_id: target,
            details: Some(details),
            ..Default::default()
        },
    )
}

fn fail_all(batch: Vec<Envelope>, reason: &str) {
    tracing::error!(size = batch.len(), %reason, "store could not commit; submitters get 503");
    for envelope in batch {
        let _ = envelope
            .reply
            .send(Err(StoreError::Unavailable(reason.to_string())));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use crate::engine::lock::Turns;

    #[test]
    fn a_group_answers_only_in_its_turn() {
        let turns = Arc::new(Turns::default());
        let said = Arc::new(Mutex::new(Vec::new()));
        let (first, second) = (turns.draw(), turns.draw());
        let later = {
            let (turns, said) = (Arc::clone(&turns), Arc::clone(&said));
            std::thread::spawn(move || turns.take(second, || said.lock().unwrap().push(second)))
        };
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            said.lock().unwrap().is_empty(),
            "the second turn waits for the first"
        );
        turns.take(first, || said.lock().unwrap().push(first));
        later.join().unwrap();
        assert_eq!(*said.lock().unwrap(), [first, second]);
        // A try that rolled back passes its turn on too.
        let (skipped, next) = (turns.draw(), turns.draw());
        turns.take(skipped, || {});
        turns.take(next, || said.lock().unwrap().push(next));
        assert_eq!(*said.lock().unwrap(), [first, second, next]);
    }

    #[tokio::test]
    async fn a_commit_reaches_the_sqlite_file_without_the_writer_checkpointing() {
        use chrono::Utc;

        use crate::bus::Bus;
        use crate::model::{AccountId, ChannelId, Command, InboundMessage};
        use crate::store::connection::DatabaseUrl;
        use crate::store::Db;

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.db");
        let db = Db::connect(&DatabaseUrl::sqlite_file(file.clone()), 2)
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let (account_id, channel_id) = db
            .run(|conn| {
                let account = crate::store::accounts::create(conn, "Acme")?;
                let channel = crate::store::channels::NewChannel::messenger_page(account, "1");
                let channel = crate::store::channels::create(conn, &channel)?;
                Ok::<_, diesel::result::Error>((account, channel))
            })
            .await
            .unwrap();
        // The schema is committed, in the WAL: far fewer pages than an autocheckpoint needs.
        let before = std::fs::metadata(&file).unwrap().len();

        let (bus, commands, _publisher) = Bus::new();
        crate::engine::spawn(&db, |_| {}, commands, 16, 1).unwrap();
        bus.submit(Command::Inbound(InboundMessage {
            account_id: AccountId(account_id),
            channel_id: ChannelId(channel_id),
            contact_external_id: "customer-1".into(),
            external_id: "m_1".into(),
            text: Some("Hello".into()),
            attachments: None,
            reply_to: None,
            sent_at: Utc::now(),
            uploads: None,
        }))
        .await
        .unwrap();

        let after = crate::store::checkpoint::size_after_growing(&file, before + 100_000).await;
        assert!(
            after >= before + 100_000,
            "the checkpoint thread copied the WAL into the file: {after} bytes, {before} before"
        );
    }
}
