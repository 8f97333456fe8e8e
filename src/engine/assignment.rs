//! Who works a chat: a supervisor's choice, the queue, and round robin over eligible agents.

use diesel::QueryResult;

use super::record::Recorder;
use crate::model::{ChatStatus, Outcome};
use crate::store::assignment::Candidate;
use crate::store::chats;
use crate::store::connection::DbConnection;

pub(super) fn assign(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    assignee_id: Option<i64>,
    by: Option<i64>,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let chat = chats::find(conn, account_id, chat_id)?;
    if chat.assignee_id == assignee_id {
        return Ok(rec.done());
    }
    let now = rec.now.naive_utc();
    chats::set_assignee(conn, chat_id, assignee_id, now)?;
    let updated = chats::find(conn, account_id, chat_id)?;
    let data = serde_json::json!({
        "chat": updated,
        "assignee_id": assignee_id,
        "previous_assignee_id": chat.assignee_id,
        "by": by,
    });
    rec.emit_assignment(account_id, &updated, chat.assignee_id, data)?;
    Ok(rec.done())
}

/// Round robin: the next eligible agent after the account's cursor (by user id, wrapping).
pub(super) fn auto_assign(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    online: &[i64],
) -> QueryResult<Outcome> {
    let rec = Recorder::new();
    // The cursor's lock first: another process may be assigning this very chat, and what it
    // committed is only visible once its lock is released.
    let cursor = crate::store::assignment::lock_cursor(conn, account_id, rec.now.naive_utc())?;
    let chat = chats::find(conn, account_id, chat_id)?;
    if chat.assignee_id.is_some() || chat.status != ChatStatus::Open {
        return Ok(rec.done());
    }
    let candidates = crate::store::assignment::candidates(conn, account_id, online)?;
    let Some(next) = next_agent(&candidates, cursor) else {
        return Ok(rec.done());
    };
    crate::store::assignment::move_cursor(conn, account_id, next)?;
    assign(conn, account_id, chat_id, Some(next), None)
}

/// Round robin's pick: the first agent after `cursor` by id (wrapping) who has room, that is
/// fewer open chats than their `max_open_chats` when set. `candidates` come by id.
pub fn next_agent(candidates: &[Candidate], cursor: i64) -> Option<i64> {
    let mut eligible = candidates.iter().filter(|c| has_room(c));
    let first = eligible.clone().next();
    eligible.find(|c| c.id > cursor).or(first).map(|c| c.id)
}

/// Someone takes a chat for themselves, if it is still waiting for a person: nobody has it and
/// the bot does not answer it. Otherwise nothing changes (the caller reads who has it now).
pub(super) fn take(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    user_id: i64,
) -> QueryResult<Outcome> {
    let chat = chats::find(conn, account_id, chat_id)?;
    if chat.assignee_id.is_some() || chat.status == ChatStatus::Bot {
        return Ok(Recorder::new().done());
    }
    assign(conn, account_id, chat_id, Some(user_id), Some(user_id))
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

/// Puts an offline agent's open chat back in the queue, unless it changed hands or state since.
pub(super) fn requeue(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    user_id: i64,
) -> QueryResult<Outcome> {
    let chat = chats::find(conn, account_id, chat_id)?;
    if chat.assignee_id != Some(user_id) || chat.status != ChatStatus::Open {
        return Ok(Recorder::new().done());
    }
    assign(conn, account_id, chat_id, None, None)
}
