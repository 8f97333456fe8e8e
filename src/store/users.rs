//! Users: the people who log in, with their role and routing settings.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::users;
use crate::model::Role;

/// A user as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// The account this user belongs to.
    pub account_id: i64,
    /// Login email, lower-cased.
    pub email: String,
    /// Display name.
    pub name: String,
    /// What they may do.
    #[diesel(deserialize_as = String)]
    pub role: Role,
    /// Argon2id PHC string; none until the user sets a password.
    pub password_hash: Option<String>,
    /// Deactivated users cannot log in.
    pub is_active: bool,
    /// Whether round robin may give this user new chats.
    pub can_receive_new_chats: bool,
    /// Capacity for open chats, if limited.
    pub max_open_chats: Option<i32>,
    /// `online` or `away`, as the user set it.
    pub status: String,
    /// When the user was last connected.
    pub last_seen_at: Option<NaiveDateTime>,
    /// When the user was created.
    pub created_at: NaiveDateTime,
    /// When the user was last changed.
    pub updated_at: NaiveDateTime,
}

/// The fields needed to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The account the user joins.
    pub account_id: i64,
    /// Login email (lower-cased before storing).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role in the account.
    pub role: Role,
    /// Argon2id PHC string, if a password is set now.
    pub password_hash: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct UserRow<'a> {
    account_id: i64,
    email: &'a str,
    name: &'a str,
    role: &'a str,
    password_hash: Option<&'a str>,
    is_active: bool,
    can_receive_new_chats: bool,
    status: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Normalises an email for storage and lookup: trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Creates a user and returns its id. A taken email is a unique-violation error.
pub fn create(conn: &mut DbConnection, new: &NewUser) -> QueryResult<i64> {
    let now = Utc::now().naive_utc();
    let email = normalize_email(&new.email);
    let row = UserRow {
        account_id: new.account_id,
        email: &email,
        name: new.name.trim(),
        role: new.role.as_str(),
        password_hash: new.password_hash.as_deref(),
        is_active: true,
        can_receive_new_chats: new.role.receives_chats_by_default(),
        status: "online",
        created_at: now,
        updated_at: now,
    };
    crate::insert_returning_id!(conn, crate::store::schema::users, &row)
}

/// Finds a user by email (case-insensitive), in any account.
pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(normalize_email(email)))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// The ids of an account's users.
pub fn ids_in_account(conn: &mut DbConnection, account_id: i64) -> QueryResult<Vec<i64>> {
    users::table
        .filter(users::account_id.eq(account_id))
        .select(users::id)
        .load(conn)
}

/// Finds a user by id within an account.
pub fn find(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<User> {
    users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::id.eq(id))
        .select(User::as_select())
        .first(conn)
}

/// Every user of an account, by id.
pub fn list(conn: &mut DbConnection, account_id: i64) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::account_id.eq(account_id))
        .order(users::id.asc())
        .select(User::as_select())
        .load(conn)
}

/// Serialises changes to the account's users for the rest of the transaction: its first
/// statement writes the account row, so a second such transaction waits for this one (a row
/// lock on PostgreSQL and MySQL, the write lock on SQLite, taken before anything is read).
/// Rules over several users, such as the last admin, then read what is really committed.
pub fn lock_account_users(conn: &mut DbConnection, account_id: i64) -> QueryResult<()> {
    use super::schema::accounts;
    diesel::update(accounts::table.find(account_id))
        .set(accounts::updated_at.eq(chrono::Utc::now().naive_utc()))
        .execute(conn)?;
    Ok(())
}

/// Counts the account's active admins.
pub fn count_active_admins(conn: &mut DbConnection, account_id: i64) -> QueryResult<i64> {
    users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::is_active.eq(true))
        .count()
        .get_result(conn)
}

/// Fields an admin may change; `None` leaves a field as it is.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    /// New login email (lower-cased by the caller).
    pub email: Option<String>,
    /// New display name.
    pub name: Option<String>,
    /// New role name.
    pub role: Option<String>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
    /// Whether round robin may assign new chats.
    pub can_receive_new_chats: Option<bool>,
    /// New capacity; `Some(None)` removes the limit.
    pub max_open_chats: Option<Option<i32>>,
    /// New password hash.
    pub password_hash: Option<String>,
    /// `online` or `away`.
    pub status: Option<String>,
    /// Always set when anything changes.
    pub updated_at: Option<NaiveDateTime>,
}

/// Applies changes to a user of an account; returns the rows changed (0: no such user).
/// A new password, email or role, or a deactivation, voids the user's outstanding reset and
/// invitation links in the same statement's transaction: a link mailed before the change
/// must not undo it.
pub fn update(
    conn: &mut DbConnection,
    account_id: i64,
    id: i64,
    mut changes: UserChanges,
) -> QueryResult<usize> {
    let now = Utc::now().naive_utc();
    let voids_links = changes.password_hash.is_some()
        || changes.email.is_some()
        || changes.role.is_some()
        || changes.is_active == Some(false);
    changes.updated_at = Some(now);
    let changed = diesel::update(
        users::table
            .filter(users::account_id.eq(account_id))
            .filter(users::id.eq(id)),
    )
    .set(changes)
    .execute(conn)?;
    if changed > 0 && voids_links {
        super::password_tokens::invalidate_for_user(conn, id, now)?;
    }
    Ok(changed)
}

/// Stores the same password hashed with today's parameters (after a login): not a change of
/// password, so the user's links stay as they are.
pub fn rehash_password(
    conn: &mut DbConnection,
    account_id: i64,
    id: i64,
    password_hash: &str,
) -> QueryResult<usize> {
    diesel::update(
        users::table
            .filter(users::account_id.eq(account_id))
            .filter(users::id.eq(id)),
    )
    .set(users::password_hash.eq(password_hash))
    .execute(conn)
}

/// Deletes a user of an account; returns the rows deleted.
pub fn delete(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<usize> {
    diesel::delete(
        users::table
            .filter(users::account_id.eq(account_id))
            .filter(users::id.eq(id)),
    )
    .execute(conn)
}

/// The names of these users of the account (unknown ids are left out).
pub fn names(
    conn: &mut DbConnection,
    account_id: i64,
    ids: &[i64],
) -> QueryResult<Vec<(i64, String)>> {
    users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name))
        .load(conn)
}
