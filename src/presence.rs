//! Who is connected right now (live agent sockets on this process), and changes to it; going
//! offline waits out a grace period, so a reconnect is not a logout.

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
    /// Whether the user has a live connection.
    pub online: bool,
    /// The user's status when it changed (`online` or `away`).
    pub status: Option<String>,
}

/// Live connections per user.
#[derive(Debug)]
pub struct Presence {
    connections: Mutex<HashMap<i64, (i64, usize)>>,
    changes: broadcast::Sender<PresenceChange>,
    grace: Duration,
}

impl Presence {
    /// Presence with the given grace period before a disconnected user counts as offline.
    pub fn new(grace: Duration) -> Self {
        Self {
            connections: Mutex::new(HashMap::new()),
            changes: broadcast::channel(1024).0,
            grace,
        }
    }
}

/// Holds a user online while the connection lives; dropping it takes one connection away.
#[derive(Debug)]
pub struct Online {
    presence: Arc<Presence>,
    account_id: i64,
    user_id: i64,
}

impl Drop for Online {
    fn drop(&mut self) {
        let last = {
            let mut map = self
                .presence
                .connections
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match map.get_mut(&self.user_id) {
                Some(entry) => {
                    entry.1 = entry.1.saturating_sub(1);
                    entry.1 == 0
                }
                None => false,
            }
        };
        if !last {
            return;
        }
        let presence = Arc::clone(&self.presence);
        let (account_id, user_id) = (self.account_id, self.user_id);
        let went_offline = move || {
            let gone = {
                let mut map = presence
                    .connections
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let gone = map.get(&user_id).is_some_and(|(_, n)| *n == 0);
                if gone {
                    map.remove(&user_id);
                }
                gone
            };
            if gone {
                presence.publish(account_id, user_id, false, None);
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if !self.presence.grace.is_zero() => {
                let grace = self.presence.grace;
                handle.spawn(async move {
                    tokio::time::sleep(grace).await;
                    went_offline();
                });
            }
            _ => went_offline(),
        }
    }
}

impl Presence {
    /// Registers a live connection of a user.
    pub fn connect(self: &Arc<Self>, account_id: i64, user_id: i64) -> Online {
        let first = {
            let mut map = self
                .connections
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let entry = map.entry(user_id).or_insert((account_id, 0));
            entry.1 += 1;
            entry.1 == 1
        };
        if first {
            self.publish(account_id, user_id, true, None);
        }
        Online {
            presence: Arc::clone(self),
            account_id,
            user_id,
        }
    }

    /// A user set their status (`online` or `away`).
    pub fn status_changed(&self, account_id: i64, user_id: i64, status: &str) {
        let online = self.online(account_id).contains(&user_id);
        self.publish(account_id, user_id, online, Some(status.to_string()));
    }

    fn publish(&self, account_id: i64, user_id: i64, online: bool, status: Option<String>) {
        let _ = self.changes.send(PresenceChange {
            account_id,
            user_id,
            online,
            status,
        });
    }

    /// Users of an account with at least one live connection (or within the grace period).
    pub fn online(&self, account_id: i64) -> Vec<i64> {
        let map = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut users: Vec<i64> = map
            .iter()
            .filter(|(_, (account, count))| *account == account_id && *count > 0)
            .map(|(user, _)| *user)
            .collect();
        users.sort_unstable();
        users
    }

    /// Accounts with anyone online.
    pub fn accounts(&self) -> Vec<i64> {
        let map = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut accounts: Vec<i64> = map.values().map(|(account, _)| *account).collect();
        accounts.sort_unstable();
        accounts.dedup();
        accounts
    }

    /// Changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PresenceChange> {
        self.changes.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_online_while_any_connection_lives() {
        let presence = Arc::new(Presence::new(Duration::ZERO));
        let mut changes = presence.subscribe();
        let first = presence.connect(1, 7);
        let second = presence.connect(1, 7);
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
}
