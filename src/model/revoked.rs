//! Sessions that ended (logout, reset, deactivation, deletion) or whose user's rights changed
//! (role): what long-lived connections are told, here and on the other processes.

/// Sessions that just ended, or whose rights just changed.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Revoked {
    /// Whose sessions.
    pub user_id: i64,
    /// One session, or every session of the user when `None`.
    pub session_id: Option<String>,
    /// What happened to them.
    pub kind: RevokedKind,
}

/// What a connection of an affected session must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RevokedKind {
    /// The session ended: close.
    Ended,
    /// What the user may see changed (role): read the user again and filter by the new rights.
    Rights,
}

impl Revoked {
    /// One session (`Some`) or all of a user's sessions ended.
    pub fn ended(user_id: i64, session_id: Option<String>) -> Self {
        Self {
            user_id,
            session_id,
            kind: RevokedKind::Ended,
        }
    }

    /// A user's rights changed; their sessions stay.
    pub fn rights(user_id: i64) -> Self {
        Self {
            user_id,
            session_id: None,
            kind: RevokedKind::Rights,
        }
    }

    /// Whether a connection of `user_id` on `session_id` is affected.
    pub fn ends(&self, user_id: i64, session_id: &str) -> bool {
        self.user_id == user_id && self.session_id.as_deref().is_none_or(|s| s == session_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_session_or_all_of_a_user() {
        let one = Revoked::ended(1, Some("a".into()));
        assert!(one.ends(1, "a"));
        assert!(!one.ends(1, "b"));
        let all = Revoked::ended(1, None);
        assert!(all.ends(1, "b"));
        assert!(!all.ends(2, "b"));
    }
}
