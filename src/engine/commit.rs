//! The store's single writer: commits bus commands in groups (one transaction for everything
//! that arrived during the last commit), in one lock order, trying a group again when another
//! writer got in the way; answers each submitter once durable, then publishes.

use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use tokio::sync::mpsc;

use crate::model::{Command, Envelope, Event, Outcome, StoreError};
use crate::store::connection::{DbConnection, DbPool};

/// How long the writer waits for a connection before failing a batch as unavailable.
const CONNECT_WAIT: Duration = Duration::from_secs(2);

/// Starts the writer on its own thread (Diesel is synchronous; it never runs on async threads).
pub fn spawn(
    pool: DbPool,
    publish: impl Fn(Arc<Event>) + Send + 'static,
    commands: mpsc::Receiver<Envelope>,
    max_batch: usize,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || run(&pool, &publish, commands, max_batch.max(1)))
}

fn run(
    pool: &DbPool,
    publish: &dyn Fn(Arc<Event>),
    mut commands: mpsc::Receiver<Envelope>,
    max_batch: usize,
) {
    while let Some(first) = commands.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match commands.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        commit_batch(pool, publish, batch);
    }
    tracing::info!("store writer stopped: the bus is closed");
}

/// Commits one group; every submitter hears back only after the commit (or the failure).
fn commit_batch(pool: &DbPool, publish: &dyn Fn(Arc<Event>), batch: Vec<Envelope>) {
    let size = batch.len();
    let mut conn = match pool.get_timeout(CONNECT_WAIT) {
        Ok(conn) => conn,
        Err(e) => return fail_all(batch, &format!("no database connection: {e}")),
    };
    let mut results: Vec<Result<Outcome, StoreError>> = Vec::with_capacity(size);
    let mut attempt = 0;
    // First without a savepoint per command (two statements fewer each); a command that
    // fails sends the whole group round again with savepoints, so it fails alone.
    let mut careful = false;
    let committed = loop {
        attempt += 1;
        let committed = conn.transaction::<_, GroupError, _>(|conn| {
            results.clear();
            take_write_lock(conn, &batch)?;
            if careful {
                apply_one_by_one(conn, &batch, &mut results)?;
            } else {
                match super::apply_all(conn, batch.iter().map(|e| &e.command)) {
                    Ok(outcomes) => results.extend(outcomes.into_iter().map(Ok)),
                    Err(e) if is_conflict(&e) || is_outage(&e) => return Err(e.into()),
                    Err(_) => return Err(GroupError::OneFailed),
                }
            }
            super::record::store_events(conn, results.iter_mut().filter_map(|r| r.as_mut().ok()))?;
            Ok(())
        });
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
            other => break other,
        }
    };
    if let Err(e) = committed {
        return fail_all(batch, &format!("commit failed: {e}"));
    }
    tracing::debug!(size, "committed a group");
    for (envelope, result) in batch.into_iter().zip(results) {
        if let Ok(outcome) = &result {
            for event in &outcome.events {
                publish(Arc::clone(event));
            }
        }
        // A submitter that gave up is not an error.
        let _ = envelope.reply.send(result);
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
        let result = conn.transaction(|conn| super::apply(conn, &envelope.command));
        results.push(match result {
            Ok(outcome) => Ok(outcome),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                // Another writer (another node) stored the same message first.
                Ok(Outcome {
                    events: Vec::new(),
                    duplicate: true,
                })
            }
            // The database gave up the whole transaction (InnoDB rolls all of it
            // back), or the connection is gone: nothing of the group may count as done.
            Err(e) if is_conflict(&e) || is_outage(&e) => return Err(e.into()),
            // The rest of the group goes on: this command's own data was refused.
            Err(e) => {
                let refused = refusal(&e);
                keep_refusal(conn, &envelope.command, &refused)?;
                Err(refused)
            }
        });
    }
    Ok(())
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
        details["channel_id"] = m.channel_id.into();
        details["contact_external_id"] = m.contact_external_id.clone().into();
        details["text"] = m.text.clone().into();
        target = Some(m.external_id.clone());
    }
    crate::store::audit::record(
        conn,
        crate::store::audit::NewEntry {
            account_id: command.account_id(),
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

/// Takes the group's locks before anything else, in one order, so two writers (two hub
/// processes) queue behind each other instead of deadlocking. On SQLite that is the database's
/// write lock (a second writer then waits out the busy timeout instead of failing on a stale
/// snapshot); elsewhere, the seq counter rows of the group's accounts, by id, which every
/// event-emitting command needs until commit anyway. The statements change nothing.
fn take_write_lock(conn: &mut DbConnection, batch: &[Envelope]) -> QueryResult<()> {
    let mut accounts: Vec<i64> = batch.iter().map(|e| e.command.account_id()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    crate::store::accounts::lock_for_write(conn, &accounts)
}
