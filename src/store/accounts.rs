//! Accounts: the walls every other row stands inside.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::accounts;

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
}

#[derive(Insertable)]
#[diesel(table_name = accounts)]
struct NewAccount<'a> {
    name: &'a str,
    event_seq: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
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

/// Creates an account and returns its id.
pub fn create(conn: &mut DbConnection, name: &str) -> QueryResult<i64> {
    let now = Utc::now().naive_utc();
    let new = NewAccount {
        name,
        event_seq: 0,
        created_at: now,
        updated_at: now,
    };
    crate::insert_returning_id!(conn, crate::store::schema::accounts, &new)
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
