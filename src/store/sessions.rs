//! Login sessions: one row per issued token, so a token can be revoked before it expires.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::{sessions, users};
use super::users::User;

/// A session to store at login.
#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    /// Random session id, the token's `sid` claim.
    pub id: &'a str,
    /// The user's account.
    pub account_id: i64,
    /// Who logged in.
    pub user_id: i64,
    /// The client's address.
    pub ip: Option<&'a str>,
    /// The client's `User-Agent`.
    pub user_agent: Option<&'a str>,
    /// When the session started.
    pub created_at: NaiveDateTime,
    /// When its token expires.
    pub expires_at: NaiveDateTime,
}

/// Stores a new session.
pub fn create(conn: &mut DbConnection, session: &NewSession<'_>) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(session)
        .execute(conn)
        .map(|_| ())
}

/// The user behind a session that is still valid: not revoked, not expired, user active.
pub fn active_user(
    conn: &mut DbConnection,
    session_id: &str,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Option<User>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(session_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(users::is_active.eq(true))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Revokes one session.
pub fn revoke(conn: &mut DbConnection, session_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(sessions::table.filter(sessions::id.eq(session_id)))
        .filter(sessions::revoked_at.is_null())
        .set(sessions::revoked_at.eq(now))
        .execute(conn)
}

/// Revokes every open session of a user (password change or reset, deactivation).
pub fn revoke_all_for_user(
    conn: &mut DbConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(sessions::table.filter(sessions::user_id.eq(user_id)))
        .filter(sessions::revoked_at.is_null())
        .set(sessions::revoked_at.eq(now))
        .execute(conn)
}

/// Revokes every open session of a user but `keep`; returns the ids it revoked.
pub fn revoke_others(
    conn: &mut DbConnection,
    user_id: i64,
    keep: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    let others = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::id.ne(keep))
        .select(sessions::id)
        .load::<String>(conn)?;
    diesel::update(sessions::table.filter(sessions::id.eq_any(&others)))
        .set(sessions::revoked_at.eq(now))
        .execute(conn)?;
    Ok(others)
}
