//! Who is connected right now (live agent sockets on this process), and changes to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;

/// Someone in an account may have become available for chats.
#[derive(Debug, Clone, Copy)]
pub struct Available {
    /// The account.
    pub account_id: i64,
    /// The user.
    pub user_id: i64,
}

/// Live connections per user.
#[derive(Debug)]
pub struct Presence {
    connections: Mutex<HashMap<i64, (i64, usize)>>,
    changes: broadcast::Sender<Available>,
}

impl Default for Presence {
    fn default() -> Self {
        Self {
            connections: Mutex::new(HashMap::new()),
            changes: broadcast::channel(1024).0,
        }
    }
}

/// Holds a user online while the connection lives; dropping it takes one connection away.
#[derive(Debug)]
pub struct Online {
    presence: Arc<Presence>,
    user_id: i64,
}

impl Drop for Online {
    fn drop(&mut self) {
        let mut map = self
            .presence
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = map.get_mut(&self.user_id) {
            entry.1 = entry.1.saturating_sub(1);
            if entry.1 == 0 {
                map.remove(&self.user_id);
            }
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
            self.nudge(account_id, user_id);
        }
        Online {
            presence: Arc::clone(self),
            user_id,
        }
    }

    /// Says that a user may have become available (connected, back from away).
    pub fn nudge(&self, account_id: i64, user_id: i64) {
        let _ = self.changes.send(Available {
            account_id,
            user_id,
        });
    }

    /// Users of an account with at least one live connection.
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
    pub fn subscribe(&self) -> broadcast::Receiver<Available> {
        self.changes.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_online_while_any_connection_lives() {
        let presence = Arc::new(Presence::default());
        let first = presence.connect(1, 7);
        let second = presence.connect(1, 7);
        assert_eq!(presence.online(1), vec![7]);
        drop(first);
        assert_eq!(presence.online(1), vec![7]);
        drop(second);
        assert!(presence.online(1).is_empty());
        assert!(presence.online(2).is_empty());
    }
}
