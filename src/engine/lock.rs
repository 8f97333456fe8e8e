//! A group's write lock, and the turns in which groups took it: the order they commit,
//! answer and publish in.

use std::sync::{Condvar, Mutex};

use diesel::QueryResult;

use crate::model::Command;
use crate::store::connection::DbConnection;

/// The order in which groups took the write lock, which is their commit order: each group
/// answers its submitters and publishes its events in its turn, so events go out in seq order
/// even when two writers commit one right after the other.
#[derive(Default)]
pub(super) struct Turns {
    drawn: Mutex<u64>,
    done: Mutex<u64>,
    changed: Condvar,
}

impl Turns {
    /// The next turn, drawn right after the write lock is taken.
    pub(super) fn draw(&self) -> u64 {
        let mut drawn = self
            .drawn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let turn = *drawn;
        *drawn += 1;
        turn
    }

    /// Waits for `turn`, runs `then`, and passes the turn on.
    pub(super) fn take(&self, turn: u64, then: impl FnOnce()) {
        let mut done = self.wait(turn);
        then();
        *done += 1;
        self.changed.notify_all();
    }

    /// Waits until every turn before `turn` is passed on.
    pub(super) fn wait(&self, turn: u64) -> std::sync::MutexGuard<'_, u64> {
        let mut done = self
            .done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while *done != turn {
            done = self
                .changed
                .wait(done)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        done
    }
}

/// A group's write lock, taken once and held to commit, so seq order is commit order. On SQLite
/// it is the database's write lock (a second writer then waits out the busy timeout instead of
/// failing on a stale snapshot); elsewhere, the seq counter rows of the group's accounts, by
/// id, in one order, so two writers queue behind each other instead of deadlocking. It is taken
/// first thing; with several writers on PostgreSQL, a group of channel messages takes it as
/// late as it can (before it creates a contact or opens a chat, else before it touches its
/// chats), so another writer's group does its reads and message inserts meanwhile. Its first
/// write waits until the group before it on the bus has taken the lock, so groups write and
/// commit in the order they left the bus.
pub struct GroupLock<'a> {
    accounts: Vec<i64>,
    pub(super) turns: Option<&'a Turns>,
    pub(super) turn: Option<u64>,
    held: bool,
    /// The group's place in the bus's order, until it has taken its lock.
    pub(super) place: Option<(&'a Turns, u64)>,
}

impl<'a> GroupLock<'a> {
    /// The lock of a group of these commands, not yet taken.
    pub fn new<'c>(commands: impl IntoIterator<Item = &'c Command>) -> Self {
        let mut accounts: Vec<i64> = commands
            .into_iter()
            .map(|command| command.account_id().0)
            .collect();
        accounts.sort_unstable();
        accounts.dedup();
        Self {
            accounts,
            turns: None,
            turn: None,
            held: false,
            place: None,
        }
    }

    /// A lock the caller holds already.
    pub(super) fn taken() -> Self {
        Self {
            accounts: Vec::new(),
            turns: None,
            turn: None,
            held: true,
            place: None,
        }
    }

    /// Waits, before the group's first write, until the group before it on the bus has taken
    /// its lock (a group that writes nothing waits for nothing).
    pub fn before_writing(&self) {
        if let Some((order, place)) = self.place {
            drop(order.wait(place));
        }
    }

    /// Takes the lock unless the group holds it already.
    pub fn hold(&mut self, conn: &mut DbConnection) -> QueryResult<()> {
        if !self.held {
            self.before_writing();
            crate::store::accounts::lock_for_write(conn, &self.accounts)?;
            self.held = true;
            self.turn = self.turns.map(Turns::draw);
            self.pass_place();
        }
        Ok(())
    }

    /// Lets the next group on the bus write.
    pub(super) fn pass_place(&mut self) {
        if let Some((order, place)) = self.place.take() {
            order.take(place, || {});
        }
    }

    /// Whether the group holds the lock.
    pub fn is_held(&self) -> bool {
        self.held
    }
}
