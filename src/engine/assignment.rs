//! Who works a chat: a supervisor's choice, the queue, and round robin over eligible agents.

use super::record::Recorder;
use super::rule::{Rule, Ruled};
use crate::model::{Actor, Assign, Assignment, AutoAssign, ChatStatus, Refusal, Requeue, Take};
use crate::store::assignment::Candidate;
use crate::store::chats;
use crate::store::connection::DbConnection;

impl Rule for Assign {
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let chat = chats::find(conn, self.account_id.0, self.chat_id.0)?;
        if let Some(assignee) = self.assignee_id {
            let user = crate::store::users::find(conn, self.account_id.0, assignee.0).map_err(
                |e| match e {
                    diesel::result::Error::NotFound => Refusal::NotAUser.into(),
                    other => super::rule::Stop::from(other),
                },
            )?;
            if !user.is_active {
                return Err(Refusal::InactiveUser.into());
            }
        }
        assign(
            conn,
            rec,
            &chat,
            self.assignee_id.map(|u| u.0),
            self.by.as_ref(),
        )
    }
}

/// Gives the chat to `assignee` (or the queue) unless it has them already: `chat.assigned`,
/// and a decision a person made over the API in the audit log, in the same transaction.
pub(super) fn assign(
    conn: &mut DbConnection,
    rec: &mut Recorder,
    chat: &chats::Chat,
    assignee_id: Option<i64>,
    by: Option<&Actor>,
) -> Ruled {
    if chat.assignee_id == assignee_id {
        return Ok(());
    }
    let now = rec.now.naive_utc();
    chats::set_assignee(conn, chat.id, assignee_id, now)?;
    let updated = chats::find(conn, chat.account_id, chat.id)?;
    let assignment = Assignment {
        chat: updated,
        assignee_id,
        previous_assignee_id: chat.assignee_id,
        by: by.map(|actor| actor.user_id.0),
    };
    rec.emit_assignment(chat.account_id, assignment);
    if let Some(Actor {
        user_id,
        ip: Some(ip),
    }) = by
    {
        crate::store::audit::record(
            conn,
            crate::store::audit::NewEntry {
                account_id: chat.account_id,
                actor_user_id: Some(user_id.0),
                action: "chat.assigned",
                target_type: Some("chat"),
                target_id: Some(chat.id.to_string()),
                ip: Some(ip),
                details: Some(serde_json::json!({"from": chat.assignee_id, "to": assignee_id})),
            },
        )?;
    }
    Ok(())
}

impl Rule for AutoAssign {
    /// Round robin: the next eligible agent after the account's cursor (by user id, wrapping).
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let account_id = self.account_id.0;
        // The cursor's lock first: another process may be assigning this very chat, and what
        // it committed is only visible once its lock is released.
        let cursor = crate::store::assignment::lock_cursor(conn, account_id, rec.now.naive_utc())?;
        let chat = chats::find(conn, account_id, self.chat_id.0)?;
        if chat.assignee_id.is_some() || chat.status != ChatStatus::Open {
            return Ok(());
        }
        let online: Vec<i64> = self.online.iter().map(|u| u.0).collect();
        let candidates = crate::store::assignment::candidates(conn, account_id, &online)?;
        let Some(next) = next_agent(&candidates, cursor) else {
            return Ok(());
        };
        crate::store::assignment::move_cursor(conn, account_id, next)?;
        assign(conn, rec, &chat, Some(next), None)
    }
}

/// Round robin's pick: the first agent after `cursor` by id (wrapping) who has room, that is
/// fewer open chats than their `max_open_chats` when set. `candidates` come by id.
pub fn next_agent(candidates: &[Candidate], cursor: i64) -> Option<i64> {
    let mut eligible = candidates.iter().filter(|c| has_room(c));
    let first = eligible.clone().next();
    eligible.find(|c| c.id > cursor).or(first).map(|c| c.id)
}

impl Rule for Take {
    /// Someone takes a chat for themselves, if it is still waiting for a person: nobody has it
    /// and the bot does not answer it. Otherwise it is refused (someone was first).
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let chat = chats::find(conn, self.account_id.0, self.chat_id.0)?;
        if chat.assignee_id.is_some() || chat.status == ChatStatus::Bot {
            return Err(Refusal::AlreadyTaken.into());
        }
        assign(conn, rec, &chat, Some(self.by.user_id.0), Some(&self.by))
    }
}

/// How many of `candidates` round robin may give a chat right now.
pub fn with_room(candidates: &[Candidate]) -> usize {
    candidates.iter().filter(|c| has_room(c)).count()
}

/// Fewer open chats than their `max_open_chats`, when set.
fn has_room(candidate: &Candidate) -> bool {
    candidate
        .max_open_chats
        .is_none_or(|max| candidate.open_chats < i64::from(max))
}

impl Rule for Requeue {
    /// Puts an offline agent's open chat back in the queue, unless it changed hands or state
    /// since.
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let chat = chats::find(conn, self.account_id.0, self.chat_id.0)?;
        if chat.assignee_id != Some(self.user_id.0) || chat.status != ChatStatus::Open {
            return Ok(());
        }
        assign(conn, rec, &chat, None, None)
    }
}
