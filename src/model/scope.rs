//! What an integration's API key may do: its scopes, each named `<area>:<read|write|...>`.

use super::states::{states, UnknownValue};

states!(
    /// One permission an API key carries.
    Scope, "scope" {
        /// List and read chats and their messages.
        ChatsRead = "chats:read",
        /// Reply, write notes, change status, assign, hand off and mark chats read.
        ChatsWrite = "chats:write",
        /// Read contacts.
        ContactsRead = "contacts:read",
        /// Change contacts.
        ContactsWrite = "contacts:write",
        /// List and read leads and their imports.
        LeadsRead = "leads:read",
        /// Change and import leads.
        LeadsWrite = "leads:write",
        /// Register, list and remove outgoing webhooks; read and redeliver deliveries.
        WebhooksManage = "webhooks:manage",
        /// Open the event stream (`/ws`).
        WsConnect = "ws:connect",
    }
);

/// A set of scopes as stored: the scopes' strings, space-separated, in declaration order.
pub fn scopes_text(scopes: &[Scope]) -> String {
    Scope::ALL
        .iter()
        .filter(|s| scopes.contains(s))
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The scopes of a stored set; unknown words (a scope a later version dropped) are skipped.
pub fn scopes_from_text(text: &str) -> Vec<Scope> {
    text.split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_read_back_from_their_text() {
        let scopes = vec![Scope::WsConnect, Scope::ChatsRead];
        let text = scopes_text(&scopes);
        assert_eq!(text, "chats:read ws:connect");
        assert_eq!(
            scopes_from_text(&text),
            vec![Scope::ChatsRead, Scope::WsConnect]
        );
        assert!("chats:admin".parse::<Scope>().is_err());
        let _: Result<Scope, UnknownValue> = "x".parse();
    }
}
