//! Integration keys: one row per key, its secret kept as a hash and found by its public prefix.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::{api_keys, users};
use super::users::User;

/// A key as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    /// Primary key.
    pub id: i64,
    /// Owning account.
    pub account_id: i64,
    /// What the admin called it.
    pub name: String,
    /// The public part of the key, which finds its row.
    pub prefix: String,
    /// SHA-256 of the whole key, hex.
    pub secret_hash: String,
    /// Its scopes, space-separated.
    pub scopes: String,
    /// The admin who created it; the key acts for them.
    pub created_by: Option<i64>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last accepted (kept to the minute).
    pub last_used_at: Option<NaiveDateTime>,
    /// Revoked: refused from then on.
    pub revoked_at: Option<NaiveDateTime>,
}

/// Fields of a new key.
#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    /// Owning account.
    pub account_id: i64,
    /// Its name.
    pub name: &'a str,
    /// Its public prefix.
    pub prefix: &'a str,
    /// SHA-256 of the key, hex.
    pub secret_hash: &'a str,
    /// Scopes, space-separated.
    pub scopes: &'a str,
    /// The creating admin.
    pub created_by: i64,
    /// Now.
    pub created_at: NaiveDateTime,
}

/// Stores a key; returns it as stored.
pub fn create(conn: &mut DbConnection, new: &NewApiKey<'_>) -> QueryResult<ApiKey> {
    let id = crate::insert_returning_id!(conn, crate::store::schema::api_keys, new)?;
    api_keys::table
        .find(id)
        .select(ApiKey::as_select())
        .first(conn)
}

/// The account's keys, newest first, revoked ones included.
pub fn list(conn: &mut DbConnection, account_id: i64) -> QueryResult<Vec<ApiKey>> {
    api_keys::table
        .filter(api_keys::account_id.eq(account_id))
        .order(api_keys::id.desc())
        .select(ApiKey::as_select())
        .load(conn)
}

/// One key of the account.
pub fn find(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<Option<ApiKey>> {
    api_keys::table
        .filter(api_keys::account_id.eq(account_id))
        .filter(api_keys::id.eq(id))
        .select(ApiKey::as_select())
        .first(conn)
        .optional()
}

/// Revokes a key of the account; rows changed (0 when already revoked or not found).
pub fn revoke(
    conn: &mut DbConnection,
    account_id: i64,
    id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        api_keys::table
            .filter(api_keys::account_id.eq(account_id))
            .filter(api_keys::id.eq(id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(now))
    .execute(conn)
}

/// A live key by its prefix with the user it acts for: not revoked, its creator still active
/// and in the key's account.
pub fn live_by_prefix(
    conn: &mut DbConnection,
    prefix: &str,
) -> QueryResult<Option<(ApiKey, User)>> {
    api_keys::table
        .inner_join(users::table)
        .filter(api_keys::prefix.eq(prefix))
        .filter(api_keys::revoked_at.is_null())
        .filter(users::is_active.eq(true))
        .filter(users::account_id.eq(api_keys::account_id))
        .filter(api_keys::account_id.eq_any(super::accounts::sending()))
        .select((ApiKey::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

/// A live key by id, with the user it acts for (for long-lived connections); a key of a
/// suspended account is not live.
pub fn live_by_id(conn: &mut DbConnection, id: i64) -> QueryResult<Option<(ApiKey, User)>> {
    api_keys::table
        .inner_join(users::table)
        .filter(api_keys::id.eq(id))
        .filter(api_keys::revoked_at.is_null())
        .filter(users::is_active.eq(true))
        .filter(users::account_id.eq(api_keys::account_id))
        .filter(api_keys::account_id.eq_any(super::accounts::sending()))
        .select((ApiKey::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

/// Notes a use, at most once per `since` (a write per minute, not per request).
pub fn touch(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
    since: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        api_keys::table.filter(api_keys::id.eq(id)).filter(
            api_keys::last_used_at
                .is_null()
                .or(api_keys::last_used_at.lt(since)),
        ),
    )
    .set(api_keys::last_used_at.eq(now))
    .execute(conn)
}
