//! Single-use tokens for password resets and invitations, stored only as SHA-256 hashes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::password_tokens;

/// Why a token was issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The user asked to reset a forgotten password.
    Reset,
    /// An admin created the user without a password.
    Invite,
    /// Someone signed up: the link confirms their email address and opens the account.
    Signup,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::Invite => "invite",
            Self::Signup => "signup",
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = password_tokens)]
struct TokenRow<'a> {
    account_id: i64,
    user_id: i64,
    token_hash: &'a str,
    purpose: &'a str,
    expires_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

/// Stores a token's hash for a user.
pub fn create(
    conn: &mut DbConnection,
    account_id: i64,
    user_id: i64,
    token_hash: &str,
    purpose: Purpose,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(password_tokens::table)
        .values(TokenRow {
            account_id,
            user_id,
            token_hash,
            purpose: purpose.as_str(),
            expires_at,
            created_at: now,
        })
        .execute(conn)
        .map(|_| ())
}

/// Marks a reset or invitation token used if it is unused and unexpired, and returns
/// `(account_id, user_id)`. The conditional update makes it single-use even when two requests
/// race.
pub fn consume(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, i64)>> {
    consume_where(conn, token_hash, false, now)
}

/// Marks a sign-up confirmation token used, as [`consume`] does for the others.
pub fn consume_signup(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, i64)>> {
    consume_where(conn, token_hash, true, now)
}

fn consume_where(
    conn: &mut DbConnection,
    token_hash: &str,
    signup: bool,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, i64)>> {
    let signup_purpose = Purpose::Signup.as_str();
    let purpose = password_tokens::purpose.eq(signup_purpose);
    let claimed = diesel::update(password_tokens::table)
        .filter(password_tokens::token_hash.eq(token_hash))
        .filter(purpose.eq(signup))
        .filter(password_tokens::used_at.is_null())
        .filter(password_tokens::expires_at.gt(now))
        .set(password_tokens::used_at.eq(now))
        .execute(conn)?;
    if claimed != 1 {
        return Ok(None);
    }
    password_tokens::table
        .filter(password_tokens::token_hash.eq(token_hash))
        .select((password_tokens::account_id, password_tokens::user_id))
        .first(conn)
        .optional()
}

/// Invalidates every unused token of a user (after a successful reset).
pub fn invalidate_for_user(
    conn: &mut DbConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(password_tokens::table)
        .filter(password_tokens::user_id.eq(user_id))
        .filter(password_tokens::used_at.is_null())
        .set(password_tokens::used_at.eq(now))
        .execute(conn)
}

/// Whether a token exists, unused and unexpired (a cheap check before hashing a password).
pub fn is_usable(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        password_tokens::table
            .filter(password_tokens::token_hash.eq(token_hash))
            .filter(password_tokens::used_at.is_null())
            .filter(password_tokens::expires_at.gt(now)),
    ))
    .get_result(conn)
}
