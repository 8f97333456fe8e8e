//! The team as supervisors watch it: presence, open chats and capacity per person, the queue.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::error::AppResult;
use crate::model::Role;

/// One person of the team.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Member {
    /// User id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// `admin`, `supervisor` or `agent`.
    pub role: Role,
    /// `online` or `away`: what they said.
    pub status: String,
    /// Whether they have a live connection now.
    pub online: bool,
    /// Open chats assigned to them.
    pub open_chats: i64,
    /// Their capacity, if limited.
    pub max_open_chats: Option<i32>,
    /// Whether round robin gives them new chats.
    pub can_receive_new_chats: bool,
}

/// The team and the queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Team {
    /// Active users, by name.
    pub members: Vec<Member>,
    /// Open chats nobody has.
    pub queue_size: i64,
    /// The last customer message of the longest-waiting chat in the queue.
    pub oldest_waiting_since: Option<DateTime<Utc>>,
}

/// Loads the caller's team (supervisors and admins).
pub async fn load(state: &AppState, me: &CurrentUser) -> AppResult<Team> {
    me.principal.authorize(Action::ListUsers)?;
    let account = me.principal.account_id;
    let online = state.presence.online(account);
    let (users, counts, (queue_size, oldest)) = state
        .db()
        .run(move |conn| -> AppResult<_> {
            Ok((
                crate::store::users::list(conn, account)?,
                crate::store::chats::open_counts(conn, account)?,
                crate::store::chats::queue(conn, account)?,
            ))
        })
        .await?;
    let mut members: Vec<Member> = users
        .into_iter()
        .filter(|u| u.is_active)
        .map(|u| Member {
            online: online.contains(&u.id),
            open_chats: counts
                .iter()
                .find(|(id, _)| *id == u.id)
                .map_or(0, |(_, n)| *n),
            id: u.id,
            name: u.name,
            role: u.role,
            status: u.status,
            max_open_chats: u.max_open_chats,
            can_receive_new_chats: u.can_receive_new_chats,
        })
        .collect();
    members.sort_by_key(|m| m.name.to_lowercase());
    Ok(Team {
        members,
        queue_size,
        oldest_waiting_since: oldest.map(|t| t.and_utc()),
    })
}
