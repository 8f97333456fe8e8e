//! Who is connected right now, and changes to it; going offline waits out a grace period, so a
//! reconnect is not a logout. `Presence` is the seam where a store shared by several hub
//! processes plugs in; `LocalPresence` counts this process's live sockets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::broadcast;

/// A user came online, went offline, or changed status.
#[derive(Debug, Clone)]
pub struct PresenceChange {
    /// The account.
    pub account_id: i64,
    /// The user.
    pub user_id: i64,
    /// Whether the user counts as online (connected, or disconnected within the grace period).
    pub online: bool,
    /// The status the user set (`online` or `away`), when that is what changed.
    pub status: Option<String>,
    /// False for a change others need not see (a reconnect within the grace period).
    pub announce: bool,
}

/// One user's connections on this process.
#[derive(Debug, Clone, Copy)]
struct Entry {
    account_id: i64,
    connections: usize,
    /// Bumped on every last disconnect, so only the newest grace timer may mark them offline.
    generation: u64,
}

/// Who is online, for round robin and the live views.
pub trait Presence: Send + Sync + std::fmt::Debug {
    /// Registers a live connection of a user; dropping the guard takes it away.
    fn connect(self: Arc<Self>, account_id: i64, user_id: i64) -> Online;
    /// One connection of a user went away (the `Online` guard calls this).
    fn disconnect(self: Arc<Self>, account_id: i64, user_id: i64);
    /// A user set their status (`online` or `away`).
    fn status_changed(&self, account_id: i64, user_id: i64, status: &str);
    /// Users of an account with at least one live connection right now (the grace period
    /// keeps a user online for others to see, not for new chats).
    fn online(&self, account_id: i64) -> Vec<i64>;
    /// Accounts with anyone online.
    fn accounts(&self) -> Vec<i64>;
    /// Changes from now on.
    fn subscribe(&self) -> broadcast::Receiver<PresenceChange>;
}

/// Live connections per user on this process.
#[derive(Debug)]
pub struct LocalPresence {
    users: Mutex<HashMap<i64, Entry>>,
    changes: broadcast::Sender<PresenceChange>,
    grace: Duration,
}

impl LocalPresence {
    /// Presence with the given grace period before a disconnected user counts as offline.
    pub fn new(grace: Duration) -> Self {
        Self {
            users: Mutex::new(HashMap::new()),
            changes: broadcast::channel(1024).0,
            grace,
        }
    }

    fn users(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Entry>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Holds a user online while the connection lives; dropping it takes one connection away.
#[derive(Debug)]
pub struct Online {
    presence: Arc<dyn Presence>,
    account_id: i64,
    user_id: i64,
}

impl Drop for Online {
    fn drop(&mut self) {
        Arc::clone(&self.presence).disconnect(self.account_id, self.user_id);
    }
}

impl Presence for LocalPresence {
    fn connect(self: Arc<Self>, account_id: i64, user_id: i64) -> Online {
        let came_online = {
            let mut users = self.users();
            let entry = users.entry(user_id).or_insert(Entry {
                account_id,
                connections: 0,
                generation: 0,
            });
            entry.connections += 1;
            (entry.connections == 1).then_some(entry.generation == 0)
        };
        match came_online {
            Some(true) => self.publish(account_id, user_id, true, None),
            // Back within the grace period: nothing to announce, but eligible for chats again.
            Some(false) => {
                let _ = self.changes.send(PresenceChange {
                    account_id,
                    user_id,
                    online: true,
                    status: None,
                    announce: false,
                });
            }
            None => {}
        }
        Online {
            presence: self,
            account_id,
            user_id,
        }
    }

    fn disconnect(self: Arc<Self>, account_id: i64, user_id: i64) {
        let generation = {
            let mut users = self.users();
            let Some(entry) = users.get_mut(&user_id) else {
                return;
            };
            entry.connections = entry.connections.saturating_sub(1);
            if entry.connections > 0 {
                return;
            }
            entry.generation += 1;
            entry.generation
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if !self.grace.is_zero() => {
                handle.spawn(async move {
                    tokio::time::sleep(self.grace).await;
                    self.went_offline(account_id, user_id, generation);
                });
            }
            _ => self.went_offline(account_id, user_id, generation),
        }
    }

    fn status_changed(&self, account_id: i64, user_id: i64, status: &str) {
        let online = self.users().contains_key(&user_id);
        self.publish(account_id, user_id, online, Some(status.to_string()));
    }

    fn online(&self, account_id: i64) -> Vec<i64> {
        let mut users: Vec<i64> = self
            .users()
            .iter()
            .filter(|(_, e)| e.account_id == account_id && e.connections > 0)
            .map(|(user, _)| *user)
            .collect();
        users.sort_unstable();
        users
    }

    fn accounts(&self) -> Vec<i64> {
        let mut accounts: Vec<i64> = self.users().values().map(|e| e.account_id).collect();
        accounts.sort_unstable();
        accounts.dedup();
        accounts
    }

    fn subscribe(&self) -> broadcast::Receiver<PresenceChange> {
        self.changes.subscribe()
    }
}

impl LocalPresence {
    fn went_offline(&self, account_id: i64, user_id: i64, generation: u64) {
        let gone = {
            let mut users = self.users();
            let gone = users
                .get(&user_id)
                .is_some_and(|e| e.connections == 0 && e.generation == generation);
            if gone {
                users.remove(&user_id);
            }
            gone
        };
        if gone {
            self.publish(account_id, user_id, false, None);
        }
    }

    fn publish(&self, account_id: i64, user_id: i64, online: bool, status: Option<String>) {
        let _ = self.changes.send(PresenceChange {
            account_id,
            user_id,
            online,
            status,
            announce: true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_online_while_any_connection_lives() {
        let presence = Arc::new(LocalPresence::new(Duration::ZERO));
        let mut changes = presence.subscribe();
        let first = Arc::clone(&presence).connect(1, 7);
        let second = Arc::clone(&presence).connect(1, 7);
        assert_eq!(presence.online(1), vec![7]);
        drop(first);
        assert_eq!(presence.online(1), vec![7]);
        drop(second);
        assert!(presence.online(1).is_empty());
        assert!(presence.online(2).is_empty());
        assert!(changes.try_recv().unwrap().online);
        assert!(!changes.try_recv().unwrap().online);
        assert!(changes.try_recv().is_err(), "one change each way");
    }

    #[tokio::test(start_paused = true)]
    async fn a_reconnect_within_the_grace_period_is_not_a_logout() {
        let presence = Arc::new(LocalPresence::new(Duration::from_secs(30)));
        let first = Arc::clone(&presence).connect(1, 7);
        let mut changes = presence.subscribe();
        drop(first);
        tokio::time::sleep(Duration::from_secs(10)).await;
        let again = Arc::clone(&presence).connect(1, 7);
        tokio::time::sleep(Duration::from_secs(60)).await;
        let change = changes.try_recv().unwrap();
        assert!(
            change.online && !change.announce,
            "the reconnect is not announced"
        );
        assert!(changes.try_recv().is_err(), "no offline in between");
        drop(again);
        tokio::time::sleep(Duration::from_secs(29)).await;
        assert!(changes.try_recv().is_err(), "still within the grace period");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(!changes.try_recv().unwrap().online);
        assert!(presence.accounts().is_empty());
    }
}
