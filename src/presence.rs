//! Who is connected right now, on this process and, through the relay, on every other, and
//! changes to it; going offline waits out a grace period, so a reconnect to any process is
//! not a logout, and a process that stops being heard takes its users offline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{broadcast, Notify};
use tokio::time::Instant;

use crate::relay::link::Link;
use crate::relay::wire::Message;

/// How often a process tells the others who is connected to it.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// A process not heard from for this long (while Redis is reachable) is taken for dead.
pub const NODE_EXPIRY: Duration = Duration::from_secs(5);
/// Least time between two announcements of this process's users, so a burst of connections
/// sends a handful of lists, not one per connection.
const ANNOUNCE_GAP: Duration = Duration::from_millis(100);

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

/// Who is online, for round robin and the live views.
#[derive(Debug)]
pub struct Presence {
    state: Mutex<State>,
    changes: broadcast::Sender<PresenceChange>,
    grace: Duration,
    /// The other processes, when there are any.
    relay: Option<Link>,
    /// Wakes the announcer when this process's users change.
    dirty: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// This process's live connections per user: the account and how many.
    local: HashMap<i64, (i64, usize)>,
    /// The users other processes last said they have, and when each was last heard.
    nodes: HashMap<u64, Node>,
    /// Users connected anywhere, or within the grace period after their last connection.
    users: HashMap<i64, Known>,
}

#[derive(Debug)]
struct Node {
    /// User → account.
    users: HashMap<i64, i64>,
    heard: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Known {
    account_id: i64,
    connected: bool,
    /// Bumped on every last disconnect, so only the newest grace timer may mark them offline.
    generation: u64,
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
        Arc::clone(&self.presence).disconnect(self.account_id, self.user_id);
    }
}

impl Presence {
    /// Presence with the given grace period before a disconnected user counts as offline;
    /// with a relay, shared with the other hub processes.
    pub fn new(grace: Duration, relay: Option<Link>) -> Self {
        Self {
            state: Mutex::default(),
            changes: broadcast::channel(1024).0,
            grace,
            relay,
            dirty: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every entry is whole on its own: what a panicking holder left is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a live connection of a user; dropping the guard takes it away.
    pub fn connect(self: Arc<Self>, account_id: i64, user_id: i64) -> Online {
        let first = {
            let mut state = self.state();
            let entry = state.local.entry(user_id).or_insert((account_id, 0));
            entry.1 += 1;
            entry.1 == 1
        };
        if first {
            self.dirty.notify_one();
            Arc::clone(&self).refresh(account_id, user_id);
        }
        Online {
            presence: self,
            account_id,
            user_id,
        }
    }

    /// One connection of a user went away (the `Online` guard calls this).
    fn disconnect(self: Arc<Self>, account_id: i64, user_id: i64) {
        let last = {
            let mut state = self.state();
            match state.local.get_mut(&user_id) {
                Some(entry) if entry.1 > 1 => {
                    entry.1 -= 1;
                    false
                }
                Some(_) => state.local.remove(&user_id).is_some(),
                None => false,
            }
        };
        if last {
            self.dirty.notify_one();
            self.refresh(account_id, user_id);
        }
    }

    /// A user set their status (`online` or `away`) on this process.
    pub fn status_changed(&self, account_id: i64, user_id: i64, status: &str) {
        if let Some(relay) = &self.relay {
            relay.send(Message::Status {
                account_id,
                user_id,
                status: status.to_string(),
            });
        }
        self.status_heard(account_id, user_id, status);
    }

    /// A user set their status on another process.
    pub fn status_heard(&self, account_id: i64, user_id: i64, status: &str) {
        let online = self.state().users.contains_key(&user_id);
        self.publish(account_id, user_id, online, Some(status.to_string()), true);
    }

    /// Users of an account with at least one live connection on any process right now (the
    /// grace period keeps a user online for others to see, not for new chats).
    pub fn online(&self, account_id: i64) -> Vec<i64> {
        let mut users: Vec<i64> = self
            .state()
            .users
            .iter()
            .filter(|(_, k)| k.account_id == account_id && k.connected)
            .map(|(user, _)| *user)
            .collect();
        users.sort_unstable();
        users
    }

    /// Whether a user is connected anywhere, or within the grace period after their last
    /// connection dropped.
    pub fn knows(&self, user_id: i64) -> bool {
        self.state().users.contains_key(&user_id)
    }

    /// Accounts with anyone online.
    pub fn accounts(&self) -> Vec<i64> {
        let mut accounts: Vec<i64> = self.state().users.values().map(|k| k.account_id).collect();
        accounts.sort_unstable();
        accounts.dedup();
        accounts
    }

    /// Changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PresenceChange> {
        self.changes.subscribe()
    }

    /// Another process said which users are connected to it (user → account): all of them,
    /// each time, so a lost message is mended by the next.
    pub fn heard(self: &Arc<Self>, node: u64, users: Vec<(i64, i64)>) {
        let now: HashMap<i64, i64> = users.into_iter().map(|(a, u)| (u, a)).collect();
        let before = self.state().nodes.insert(
            node,
            Node {
                users: now.clone(),
                heard: Instant::now(),
            },
        );
        let before = before.map(|n| n.users).unwrap_or_default();
        // Only users who came or went on that process can have changed.
        let came = now.iter().filter(|(u, _)| !before.contains_key(*u));
        let went = before.iter().filter(|(u, _)| !now.contains_key(*u));
        for (user, account) in came.chain(went) {
            Arc::clone(self).refresh(*account, *user);
        }
    }

    /// Forgets the processes not heard from for `NODE_EXPIRY`: their users are disconnected.
    pub fn expire_silent_nodes(self: &Arc<Self>) {
        let gone: Vec<(u64, Node)> = {
            let mut state = self.state();
            let silent: Vec<u64> = state
                .nodes
                .iter()
                .filter(|(_, n)| n.heard.elapsed() > NODE_EXPIRY)
                .map(|(id, _)| *id)
                .collect();
            silent
                .into_iter()
                .filter_map(|id| state.nodes.remove(&id).map(|n| (id, n)))
                .collect()
        };
        for (node, gone) in gone {
            tracing::warn!(
                node,
                users = gone.users.len(),
                "a hub process fell silent; its users are disconnected"
            );
            for (user, account) in gone.users {
                Arc::clone(self).refresh(account, user);
            }
        }
    }

    /// The relay is back after an outage: the other processes get a fresh `NODE_EXPIRY` to
    /// be heard again, and this one announces its users at once.
    pub fn relay_restored(&self) {
        let now = Instant::now();
        for node in self.state().nodes.values_mut() {
            node.heard = now;
        }
        self.dirty.notify_one();
    }

    /// Tells the other processes who is connected here, whenever that changes and every
    /// `HEARTBEAT`, and forgets those that fell silent. Runs while the process does.
    pub fn spawn_heartbeat(self: Arc<Self>) {
        let Some(relay) = self.relay.clone() else {
            return;
        };
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = self.dirty.notified() => {}
                    () = tokio::time::sleep(HEARTBEAT) => {}
                }
                if relay.is_up() {
                    let users: Vec<(i64, i64)> = self
                        .state()
                        .local
                        .iter()
                        .map(|(user, (account, _))| (*account, *user))
                        .collect();
                    relay.send(Message::Presence(users));
                    self.expire_silent_nodes();
                }
                tokio::time::sleep(ANNOUNCE_GAP).await;
            }
        });
    }

    /// Works out whether a user is connected anywhere after a change, and announces what
    /// changed: online at once, offline after the grace period.
    fn refresh(self: Arc<Self>, account_id: i64, user_id: i64) {
        enum Then {
            Nothing,
            Online { announce: bool },
            Grace(u64),
        }
        let then = {
            let mut state = self.state();
            let connected = state.local.contains_key(&user_id)
                || state.nodes.values().any(|n| n.users.contains_key(&user_id));
            match state.users.get_mut(&user_id) {
                None if connected => {
                    state.users.insert(
                        user_id,
                        Known {
                            account_id,
                            connected: true,
                            generation: 0,
                        },
                    );
                    Then::Online { announce: true }
                }
                // Back within the grace period: nothing to announce, but eligible for chats again.
                Some(known) if connected && !known.connected => {
                    known.connected = true;
                    Then::Online { announce: false }
                }
                Some(known) if !connected && known.connected => {
                    known.connected = false;
                    known.generation += 1;
                    Then::Grace(known.generation)
                }
                _ => Then::Nothing,
            }
        };
        match then {
            Then::Nothing => {}
            Then::Online { announce } => self.publish(account_id, user_id, true, None, announce),
            Then::Grace(generation) => match tokio::runtime::Handle::try_current() {
                Ok(handle) if !self.grace.is_zero() => {
                    handle.spawn(async move {
                        tokio::time::sleep(self.grace).await;
                        self.went_offline(account_id, user_id, generation);
                    });
                }
                _ => self.went_offline(account_id, user_id, generation),
            },
        }
    }

    fn went_offline(&self, account_id: i64, user_id: i64, generation: u64) {
        let gone = {
            let mut state = self.state();
            let gone = state
                .users
                .get(&user_id)
                .is_some_and(|k| !k.connected && k.generation == generation);
            if gone {
                state.users.remove(&user_id);
            }
            gone
        };
        if gone {
            self.publish(account_id, user_id, false, None, true);
        }
    }

    fn publish(
        &self,
        account_id: i64,
        user_id: i64,
        online: bool,
        status: Option<String>,
        announce: bool,
    ) {
        let _ = self.changes.send(PresenceChange {
            account_id,
            user_id,
            online,
            status,
            announce,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_online_while_any_connection_lives() {
        let presence = Arc::new(Presence::new(Duration::ZERO, None));
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
        let presence = Arc::new(Presence::new(Duration::from_secs(30), None));
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

    #[tokio::test(start_paused = true)]
    async fn a_user_on_another_process_is_online_until_it_falls_silent() {
        let presence = Arc::new(Presence::new(Duration::from_secs(2), None));
        let mut changes = presence.subscribe();
        presence.heard(9, vec![(1, 7), (1, 8)]);
        assert_eq!(presence.online(1), vec![7, 8]);
        assert!(changes.try_recv().unwrap().announce);
        // Moving from that process to this one within the grace period is no logout.
        presence.heard(9, vec![(1, 8)]);
        let here = Arc::clone(&presence).connect(1, 7);
        assert_eq!(presence.online(1), vec![7, 8]);
        // The other process stops being heard: its user goes offline after the grace period.
        tokio::time::sleep(NODE_EXPIRY + Duration::from_secs(1)).await;
        presence.expire_silent_nodes();
        assert_eq!(presence.online(1), vec![7], "8 is no longer connected");
        tokio::time::sleep(Duration::from_secs(3)).await;
        let mut offline = Vec::new();
        while let Ok(change) = changes.try_recv() {
            if !change.online {
                offline.push(change.user_id);
            }
        }
        assert_eq!(
            offline,
            vec![8],
            "only the silent process's user went offline"
        );
        drop(here);
    }
}
