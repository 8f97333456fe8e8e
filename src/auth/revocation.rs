//! Announcements that sessions ended (logout, reset, deactivation, deletion), so long-lived
//! connections close at once instead of at their next check.

use tokio::sync::broadcast;

/// Sessions that just ended.
#[derive(Debug, Clone)]
pub struct Revoked {
    /// Whose sessions.
    pub user_id: i64,
    /// One session, or every session of the user when `None`.
    pub session_id: Option<String>,
}

impl Revoked {
    /// Whether a connection of `user_id` on `session_id` is affected.
    pub fn ends(&self, user_id: i64, session_id: &str) -> bool {
        self.user_id == user_id && self.session_id.as_deref().is_none_or(|s| s == session_id)
    }
}

/// The channel the announcements go through (in this process).
#[derive(Debug)]
pub struct Revocations(broadcast::Sender<Revoked>);

impl Default for Revocations {
    fn default() -> Self {
        Self(broadcast::channel(1024).0)
    }
}

impl Revocations {
    /// Announces ended sessions; nobody listening is fine.
    pub fn announce(&self, revoked: Revoked) {
        let _ = self.0.send(revoked);
    }

    /// Announcements from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Revoked> {
        self.0.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_session_or_all_of_a_user() {
        let one = Revoked {
            user_id: 1,
            session_id: Some("a".into()),
        };
        assert!(one.ends(1, "a"));
        assert!(!one.ends(1, "b"));
        let all = Revoked {
            user_id: 1,
            session_id: None,
        };
        assert!(all.ends(1, "b"));
        assert!(!all.ends(2, "b"));
    }
}
