//! The one place that decides who may see or do what (DESIGN invariant 7).

use crate::error::{AppError, AppResult};
use axum::http::Method;

use crate::model::{EventType, Role, Scope};
use crate::store::users::User;

/// The integration key a caller authenticated with: it acts for the admin who created it,
/// never beyond that person's current role, and only within its scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGrant {
    /// The key's id (`api_key:<id>` in logs and the audit log).
    pub id: i64,
    /// What it may do.
    pub scopes: Vec<Scope>,
}

/// The caller, as established from a valid session or a live API key.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The caller's user id.
    pub user_id: i64,
    /// The caller's account: nothing outside it is visible.
    pub account_id: i64,
    /// The caller's current role (read from the database, not the token).
    pub role: Role,
    /// The session behind the token (`api_key:<id>` for a key).
    pub session_id: String,
    /// The API key the caller used, when it is one and not a person's session.
    pub key: Option<KeyGrant>,
}

/// Something a caller may try to do.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// List the account's users.
    ListUsers,
    /// Read one user of the account.
    ReadUser(&'a User),
    /// Create, change or delete users.
    ManageUsers,
    /// Read the audit log.
    ReadAudit,
    /// Create, change or delete channels.
    ManageChannels,
    /// Register outgoing webhooks, read and redeliver their dead letters.
    ManageWebhooks,
    /// Add, change or remove the account's canned responses.
    ManageCannedResponses,
    /// Add, change or remove the account's labels.
    ManageLabels,
    /// Change the account's own settings (name, time zone, language).
    ManageAccount,
    /// Create, list and revoke the account's integration keys.
    ManageApiKeys,
    /// Give a chat to a user (`to`), or back to the queue (`None`).
    AssignChat {
        /// The chat, as it stands.
        chat: &'a crate::store::chats::Chat,
        /// The new assignee.
        to: Option<i64>,
    },
    /// Import leads and follow their imports.
    ImportLeads,
    /// See a chat and act in it (reply, note, status, read).
    SeeChat(&'a crate::store::chats::Chat),
}

impl Action<'_> {
    /// The scopes of which an API key needs one to do this; none: people only.
    fn scopes(&self) -> &'static [Scope] {
        match self {
            Action::SeeChat(_) => &[Scope::ChatsRead, Scope::ChatsWrite],
            Action::AssignChat { .. } => &[Scope::ChatsWrite],
            // Importing is a write; following imports a read: each route's scope decides which.
            Action::ImportLeads => &[Scope::LeadsRead, Scope::LeadsWrite],
            Action::ManageWebhooks => &[Scope::WebhooksManage],
            Action::ListUsers
            | Action::ReadUser(_)
            | Action::ManageUsers
            | Action::ReadAudit
            | Action::ManageChannels
            | Action::ManageCannedResponses
            | Action::ManageLabels
            | Action::ManageAccount
            | Action::ManageApiKeys => &[],
        }
    }
}

/// The scope an API key needs for a route (`method`, the route's template such as
/// `/api/chats/{id}`); `None`: the route is for people only (sign-in, password, status, keys,
/// users, channels, settings).
pub fn route_scope(method: &Method, route: &str) -> Option<Scope> {
    let read = method == Method::GET || method == Method::HEAD;
    let pick = |r: Scope, w: Scope| Some(if read { r } else { w });
    let path = route.strip_prefix("/api/")?;
    let first = path.split('/').next().unwrap_or_default();
    match first {
        "chats" if path.contains("/suggest") => None,
        "chats" | "media" => pick(Scope::ChatsRead, Scope::ChatsWrite),
        "contacts" => pick(Scope::ContactsRead, Scope::ContactsWrite),
        "leads" => pick(Scope::LeadsRead, Scope::LeadsWrite),
        "outgoing-webhooks" => Some(Scope::WebhooksManage),
        "labels" | "search" if read => Some(Scope::ChatsRead),
        _ => None,
    }
}

impl Principal {
    /// Whether the caller may call a route at all: people may (each handler then asks `may`);
    /// an API key only where the route's scope is one of its own.
    pub fn may_call(&self, method: &Method, route: &str) -> bool {
        match &self.key {
            None => true,
            Some(key) => route_scope(method, route).is_some_and(|s| key.scopes.contains(&s)),
        }
    }

    /// Whether the caller may open the event stream: people may; a key with `ws:connect`.
    pub fn may_stream(&self) -> bool {
        self.key
            .as_ref()
            .is_none_or(|k| k.scopes.contains(&Scope::WsConnect))
    }

    /// Whether the caller may do `action`. Objects of another account are never allowed; an
    /// API key also needs one of the action's scopes.
    pub fn may(&self, action: Action<'_>) -> bool {
        let scoped = self
            .key
            .as_ref()
            .is_none_or(|k| action.scopes().iter().any(|s| k.scopes.contains(s)));
        scoped && self.role_may(action)
    }

    fn role_may(&self, action: Action<'_>) -> bool {
        match action {
            Action::ListUsers | Action::ImportLeads => {
                matches!(self.role, Role::Admin | Role::Supervisor)
            }
            Action::ReadUser(user) => {
                user.account_id == self.account_id
                    && (matches!(self.role, Role::Admin | Role::Supervisor)
                        || user.id == self.user_id)
            }
            // Supervisors and admins give any chat to anyone; an agent takes a chat waiting
            // for a person (nobody has it, the bot does not answer it) for themselves.
            Action::AssignChat { chat, to } => {
                chat.account_id == self.account_id
                    && match self.role {
                        Role::Admin | Role::Supervisor => true,
                        Role::Agent => {
                            to == Some(self.user_id)
                                && (chat.assignee_id.is_none() || chat.assignee_id == to)
                                && chat.status != crate::model::ChatStatus::Bot
                        }
                    }
            }
            Action::SeeChat(chat) => {
                chat.account_id == self.account_id
                    && (matches!(self.role, Role::Admin | Role::Supervisor)
                        || chat.assignee_id.is_none()
                        || chat.assignee_id == Some(self.user_id))
            }
            Action::ManageUsers
            | Action::ReadAudit
            | Action::ManageChannels
            | Action::ManageWebhooks
            | Action::ManageCannedResponses
            | Action::ManageLabels
            | Action::ManageAccount
            | Action::ManageApiKeys => self.role == Role::Admin,
        }
    }

    /// Whether a committed event reaches this caller's event stream: admins and supervisors see
    /// their whole account; agents see events of chats assigned to them or unassigned, and a
    /// `chat.assigned` that takes a chat away from them.
    pub fn may_see_event(&self, event: &crate::model::Event) -> bool {
        let assigned = event.event_type == EventType::ChatAssigned;
        self.may_follow_chat(event.account_id, event.assignee_id)
            || (event.account_id == self.account_id
                && assigned
                // Taken from this agent, or leaving the queue (every queue view must learn it).
                && (event.previous_assignee_id == Some(self.user_id)
                    || event.previous_assignee_id.is_none()))
    }

    /// Whether the caller follows what happens in a chat with this assignee (events, typing).
    pub fn may_follow_chat(&self, account_id: i64, assignee_id: Option<i64>) -> bool {
        account_id == self.account_id
            && match self.role {
                Role::Admin | Role::Supervisor => true,
                Role::Agent => assignee_id.is_none() || assignee_id == Some(self.user_id),
            }
    }

    /// Whether a reply by the caller takes the chat: an agent answering a chat that waits in
    /// the queue makes it theirs, so round robin does not give it to someone else.
    pub fn takes_by_replying(&self, chat: &crate::store::chats::Chat) -> bool {
        self.role == Role::Agent
            && chat.assignee_id.is_none()
            && self.may(Action::AssignChat {
                chat,
                to: Some(self.user_id),
            })
    }

    /// Whether the caller sees other users' presence.
    pub fn sees_presence(&self, account_id: i64) -> bool {
        account_id == self.account_id && matches!(self.role, Role::Admin | Role::Supervisor)
    }

    /// `Ok` when allowed, 403 otherwise.
    pub fn authorize(&self, action: Action<'_>) -> AppResult<()> {
        if self.may(action) {
            Ok(())
        } else if self.key.is_some() && self.role_may(action) {
            Err(AppError::custom(
                axum::http::StatusCode::FORBIDDEN,
                "insufficient_scope",
                "this API key's scopes do not allow this",
            ))
        } else {
            Err(AppError::forbidden("your role does not allow this"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            user_id: 1,
            account_id: 10,
            role,
            session_id: "s".into(),
            key: None,
        }
    }

    fn key(scopes: &[Scope]) -> Principal {
        Principal {
            key: Some(KeyGrant {
                id: 3,
                scopes: scopes.to_vec(),
            }),
            ..principal(Role::Admin)
        }
    }

    #[test]
    fn a_key_calls_only_the_routes_its_scopes_name() {
        let reader = key(&[Scope::ChatsRead]);
        assert!(reader.may_call(&Method::GET, "/api/chats"));
        assert!(reader.may_call(&Method::GET, "/api/chats/{id}/messages"));
        assert!(!reader.may_call(&Method::POST, "/api/chats/{id}/messages"));
        assert!(!reader.may_call(&Method::GET, "/api/leads"));
        for (method, route) in [
            (Method::GET, "/api/auth/me"),
            (Method::POST, "/api/auth/logout"),
            (Method::PUT, "/api/users/me/status"),
            (Method::POST, "/api/users/me/password"),
            (Method::GET, "/api/api-keys"),
            (Method::GET, "/api/users"),
            (Method::POST, "/api/chats/{id}/suggest"),
        ] {
            assert!(
                !key(Scope::ALL).may_call(&method, route),
                "{method} {route}"
            );
        }
        assert!(principal(Role::Agent).may_call(&Method::GET, "/api/auth/me"));
        assert!(!reader.may_stream() && key(&[Scope::WsConnect]).may_stream());
    }

    #[test]
    fn a_key_acts_within_its_scopes_and_its_creators_role() {
        let chat = chat(Some(2), crate::model::ChatStatus::Open);
        let reader = key(&[Scope::ChatsRead]);
        assert!(reader.may(Action::SeeChat(&chat)));
        assert!(!reader.may(Action::AssignChat {
            chat: &chat,
            to: None
        }));
        assert!(!key(Scope::ALL).may(Action::ManageUsers));
        assert!(key(&[Scope::WebhooksManage]).may(Action::ManageWebhooks));
        let agents = Principal {
            role: Role::Agent,
            ..key(&[Scope::WebhooksManage])
        };
        assert!(!agents.may(Action::ManageWebhooks), "never beyond the role");
    }

    fn user(id: i64, account_id: i64) -> User {
        let now = chrono::Utc::now().naive_utc();
        User {
            id,
            account_id,
            email: "u@x".into(),
            name: "U".into(),
            role: Role::Agent,
            password_hash: None,
            is_active: true,
            can_receive_new_chats: true,
            max_open_chats: None,
            status: "online".into(),
            last_seen_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn agents_read_only_themselves() {
        let agent = principal(Role::Agent);
        assert!(agent.may(Action::ReadUser(&user(1, 10))));
        assert!(!agent.may(Action::ReadUser(&user(2, 10))));
        assert!(!agent.may(Action::ListUsers));
        assert!(!agent.may(Action::ManageUsers));
    }

    #[test]
    fn supervisors_read_admins_manage() {
        let supervisor = principal(Role::Supervisor);
        assert!(supervisor.may(Action::ReadUser(&user(2, 10))));
        assert!(!supervisor.may(Action::ManageUsers));
        assert!(!supervisor.may(Action::ReadAudit));
        let admin = principal(Role::Admin);
        assert!(admin.may(Action::ManageUsers) && admin.may(Action::ReadAudit));
    }

    fn event(account_id: i64, assignee_id: Option<i64>) -> crate::model::Event {
        crate::model::Event {
            seq: 1,
            account_id,
            event_type: EventType::MessageCreated,
            chat_id: Some(5),
            data: crate::model::EventData::ChatRead(crate::model::ReadUpTo {
                user_id: 1,
                last_read_message_id: 1,
            }),
            at: chrono::Utc::now(),
            assignee_id,
            previous_assignee_id: None,
            contact_id: None,
            chat_status: None,
            json: Default::default(),
        }
    }

    #[test]
    fn agents_see_events_of_their_chats_and_the_queue_only() {
        let agent = principal(Role::Agent);
        assert!(agent.may_see_event(&event(10, None)));
        assert!(agent.may_see_event(&event(10, Some(1))));
        assert!(!agent.may_see_event(&event(10, Some(2))));
        assert!(principal(Role::Supervisor).may_see_event(&event(10, Some(2))));
        let mut taken = event(10, Some(2));
        taken.event_type = EventType::ChatAssigned;
        assert!(agent.may_see_event(&taken), "a chat leaving the queue");
        taken.previous_assignee_id = Some(3);
        assert!(
            !agent.may_see_event(&taken),
            "moved between two other agents"
        );
        taken.previous_assignee_id = Some(1);
        assert!(agent.may_see_event(&taken), "taken away from this agent");
        assert!(!principal(Role::Admin).may_see_event(&event(11, None)));
    }

    fn chat(
        assignee_id: Option<i64>,
        status: crate::model::ChatStatus,
    ) -> crate::store::chats::Chat {
        let now = chrono::Utc::now().naive_utc();
        crate::store::chats::Chat {
            id: 5,
            account_id: 10,
            channel_id: 1,
            contact_id: 1,
            status,
            assignee_id,
            last_message_at: None,
            last_inbound_at: None,
            resolved_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn agents_take_queued_chats_for_themselves_only() {
        use crate::model::ChatStatus::{Bot, Open};
        let agent = principal(Role::Agent);
        let queued = chat(None, Open);
        let take =
            |chat: &crate::store::chats::Chat, to| agent.may(Action::AssignChat { chat, to });
        assert!(take(&queued, Some(1)), "a queued chat, for themselves");
        assert!(!take(&queued, Some(2)), "not for someone else");
        assert!(!take(&queued, None));
        assert!(!take(&chat(Some(2), Open), Some(1)), "another agent's chat");
        assert!(
            !take(&chat(None, Bot), Some(1)),
            "the bot's: taken over instead"
        );
        assert!(agent.takes_by_replying(&queued));
        assert!(!agent.takes_by_replying(&chat(Some(1), Open)));
        let supervisor = principal(Role::Supervisor);
        assert!(supervisor.may(Action::AssignChat {
            chat: &chat(Some(2), Open),
            to: Some(3)
        }));
        assert!(
            !supervisor.takes_by_replying(&queued),
            "supervisors answer without taking"
        );
        let mut elsewhere = queued.clone();
        elsewhere.account_id = 11;
        assert!(!principal(Role::Admin).may(Action::AssignChat {
            chat: &elsewhere,
            to: None
        }));
    }

    #[test]
    fn nobody_reads_another_account() {
        for role in [Role::Admin, Role::Supervisor, Role::Agent] {
            assert!(!principal(role).may(Action::ReadUser(&user(1, 11))));
        }
    }
}
