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

/// Users who may take a new chat now, by id: active, `can_receive_new_chats`, online (in
/// `online`) and not away, with fewer open chats than `max_open_chats` when set.
pub fn eligible_agents(
    conn: &mut DbConnection,
    account_id: i64,
    online: &[i64],
) -> QueryResult<Vec<i64>> {
    if online.is_empty() {
        return Ok(Vec::new());
    }
    let candidates: Vec<(i64, Option<i32>)> = users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::is_active.eq(true))
        .filter(users::can_receive_new_chats.eq(true))
        .filter(users::status.ne("away"))
        .filter(users::id.eq_any(online))
        .order(users::id.asc())
        .select((users::id, users::max_open_chats))
        .load(conn)?;
    let mut eligible = Vec::with_capacity(candidates.len());
    for (id, max) in candidates {
        if let Some(max) = max {
            let open: i64 = chats::table
                .filter(chats::assignee_id.eq(id))
                .filter(
                    chats::status.eq_any([ChatStatus::Open.as_str(), ChatStatus::Pending.as_str()]),
                )
                .count()
                .get_result(conn)?;
            if open >= i64::from(max) {
                continue;
            }
        }
        eligible.push(id);
    }
    Ok(eligible)
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
