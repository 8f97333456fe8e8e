//! Accounts: the walls every other row stands inside.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::accounts;
use crate::model::{AccountStatus, Language};

/// A business using Switchboard; everything else belongs to one.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct Account {
    /// Primary key.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// The last event number handed out in this account.
    pub event_seq: i64,
    /// When the account was created.
    pub created_at: NaiveDateTime,
    /// When the account was last changed.
    pub updated_at: NaiveDateTime,
    /// Active, suspended by the operator, or waiting for its sign-up to be confirmed.
    #[diesel(deserialize_as = String)]
    pub status: AccountStatus,
    /// IANA time zone its people work in.
    pub time_zone: String,
    /// The language its console and widget speak by default.
    #[diesel(deserialize_as = String)]
    pub language: Language,
}

#[derive(Insertable)]
#[diesel(table_name = accounts)]
struct NewAccount<'a> {
    name: &'a str,
    event_seq: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    status: &'a str,
}

/// How many accounts exist.
pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    accounts::table.count().get_result(conn)
}

/// The oldest account, if any.
pub fn first(conn: &mut DbConnection) -> QueryResult<Option<Account>> {
    accounts::table
        .order(accounts::id.asc())
        .select(Account::as_select())
        .first(conn)
        .optional()
}

/// Finds an account by id.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Account> {
    accounts::table
        .find(id)
        .select(Account::as_select())
        .first(conn)
}

/// Finds an account by id, if it exists.
pub fn find_optional(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Account>> {
    accounts::table
        .find(id)
        .select(Account::as_select())
        .first(conn)
        .optional()
}

/// Creates an active account and returns its id.
pub fn create(conn: &mut DbConnection, name: &str) -> QueryResult<i64> {
    create_with_status(conn, name, AccountStatus::Active)
}

/// Creates an account in `status` and returns its id.
pub fn create_with_status(
    conn: &mut DbConnection,
    name: &str,
    status: AccountStatus,
) -> QueryResult<i64> {
    let now = Utc::now().naive_utc();
    let new = NewAccount {
        name,
        event_seq: 0,
        created_at: now,
        updated_at: now,
        status: status.as_str(),
    };
    crate::insert_returning_id!(conn, crate::store::schema::accounts, &new)
}

/// Every account, oldest first.
pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<Account>> {
    accounts::table
        .order(accounts::id.asc())
        .select(Account::as_select())
        .load(conn)
}

/// The status of an account, if it exists.
pub fn status(conn: &mut DbConnection, id: i64) -> QueryResult<Option<AccountStatus>> {
    let status: Option<String> = accounts::table
        .find(id)
        .select(accounts::status)
        .first(conn)
        .optional()?;
    Ok(status.and_then(|s| s.parse().ok()))
}

/// The accounts that may send (active ones), as a subquery for the delivery queues: while an
/// account is suspended its replies and webhook deliveries wait.
#[allow(clippy::type_complexity)]
pub fn sending() -> diesel::dsl::Select<
    diesel::dsl::Filter<accounts::table, diesel::dsl::Eq<accounts::status, &'static str>>,
    accounts::id,
> {
    accounts::table
        .filter(accounts::status.eq(AccountStatus::Active.as_str()))
        .select(accounts::id)
}

/// Sets an account's status; the number of rows changed (0: no such account).
pub fn set_status(conn: &mut DbConnection, id: i64, status: AccountStatus) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id))
        .set((
            accounts::status.eq(status.as_str()),
            accounts::updated_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)
}

/// What an account's admins may change about it; `None` leaves a field.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = accounts)]
pub struct AccountChanges {
    /// New display name.
    pub name: Option<String>,
    /// New IANA time zone.
    pub time_zone: Option<String>,
    /// New language code.
    pub language: Option<String>,
    /// Set with every change.
    pub updated_at: Option<NaiveDateTime>,
}

/// Changes an account's settings.
pub fn update(conn: &mut DbConnection, id: i64, mut changes: AccountChanges) -> QueryResult<usize> {
    changes.updated_at = Some(Utc::now().naive_utc());
    diesel::update(accounts::table.find(id))
        .set(changes)
        .execute(conn)
}

/// Takes the write locks of a group of commands, in one order: on SQLite the database's write
/// lock; elsewhere the seq counter rows of `accounts` (sorted, no repeats). Changes nothing.
pub fn lock_for_write(conn: &mut DbConnection, accounts: &[i64]) -> QueryResult<()> {
    if let DbConnection::Sqlite(c) = conn {
        super::prepared::Prepared::<diesel::sqlite::Sqlite>::new(
            "UPDATE accounts SET event_seq = event_seq WHERE 0 = 1",
        )
        .execute(c)?;
        return Ok(());
    }
    for account in accounts {
        diesel::update(accounts::table.find(account))
            .set(accounts::event_seq.eq(accounts::event_seq))
            .execute(conn)?;
    }
    Ok(())
}
