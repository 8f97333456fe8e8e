//! Round-robin state: the per-account cursor row and who is eligible for a new chat.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::{assignment_cursors, chats, users};
use crate::model::ChatStatus;

/// Locks the account's cursor row for this transaction (created on first use) and returns the
/// last assigned user id. The update comes first so the row lock is held until commit, which
/// keeps round robin fair with several writers (hub processes) on one database.
pub fn lock_cursor(
    conn: &mut DbConnection,
    account_id: i64,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let touched = diesel::update(assignment_cursors::table.find(account_id))
        .set(assignment_cursors::updated_at.eq(now))
        .execute(conn)?;
    if touched == 0 {
        diesel::insert_into(assignment_cursors::table)
            .values((
                assignment_cursors::account_id.eq(account_id),
                assignment_cursors::last_user_id.eq(0),
                assignment_cursors::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    assignment_cursors::table
        .find(account_id)
        .select(assignment_cursors::last_user_id)
        .first(conn)
}

/// Moves the cursor to the user just given a chat.
pub fn move_cursor(conn: &mut DbConnection, account_id: i64, user_id: i64) -> QueryResult<usize> {
    diesel::update(assignment_cursors::table.find(account_id))
        .set(assignment_cursors::last_user_id.eq(user_id))
        .execute(conn)
}

/// An agent round robin may consider: who, their capacity, and how many chats they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The user.
    pub id: i64,
    /// Their `max_open_chats`, when set.
    pub max_open_chats: Option<i32>,
    /// Chats assigned to them that are open or pending.
    pub open_chats: i64,
}

/// The account's users among `online` who are active, take new chats and are not away, by id,
/// with their load (two queries, whatever their number).
pub fn candidates(
    conn: &mut DbConnection,
    account_id: i64,
    online: &[i64],
) -> QueryResult<Vec<Candidate>> {
    if online.is_empty() {
        return Ok(Vec::new());
    }
    let users: Vec<(i64, Option<i32>)> = users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::is_active.eq(true))
        .filter(users::can_receive_new_chats.eq(true))
        .filter(users::status.ne("away"))
        .filter(users::id.eq_any(online))
        .order(users::id.asc())
        .select((users::id, users::max_open_chats))
        .load(conn)?;
    let ids: Vec<i64> = users.iter().map(|(id, _)| *id).collect();
    let load: std::collections::HashMap<i64, i64> = chats::table
        .filter(chats::assignee_id.eq_any(&ids))
        .filter(chats::status.eq_any([ChatStatus::Open.as_str(), ChatStatus::Pending.as_str()]))
        .group_by(chats::assignee_id)
        .select((
            chats::assignee_id.assume_not_null(),
            diesel::dsl::count_star(),
        ))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(users
        .into_iter()
        .map(|(id, max_open_chats)| Candidate {
            id,
            max_open_chats,
            open_chats: load.get(&id).copied().unwrap_or(0),
        })
        .collect())
}

/// Unassigned open chats of an account, oldest first (the queue).
pub fn queue(conn: &mut DbConnection, account_id: i64, limit: i64) -> QueryResult<Vec<i64>> {
    chats::table
        .filter(chats::account_id.eq(account_id))
        .filter(chats::assignee_id.is_null())
        .filter(chats::status.eq(ChatStatus::Open.as_str()))
        .order((chats::created_at.asc(), chats::id.asc()))
        .limit(limit)
        .select(chats::id)
        .load(conn)
}

/// Open chats assigned to a user (put back in the queue when they stay offline).
pub fn open_chats_of(
    conn: &mut DbConnection,
    account_id: i64,
    user_id: i64,
) -> QueryResult<Vec<i64>> {
    chats::table
        .filter(chats::account_id.eq(account_id))
        .filter(chats::assignee_id.eq(user_id))
        .filter(chats::status.eq(ChatStatus::Open.as_str()))
        .order(chats::id.asc())
        .select(chats::id)
        .load(conn)
}
