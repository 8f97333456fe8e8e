//! Labels: an account's tags, and which chats and contacts carry them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::{chat_labels, contact_labels, labels};

pub use crate::model::Label;

/// The account's labels by name.
pub fn list(conn: &mut DbConnection, account_id: i64) -> QueryResult<Vec<Label>> {
    labels::table
        .filter(labels::account_id.eq(account_id))
        .order(labels::name)
        .select(Label::as_select())
        .load(conn)
}

/// One label of the account.
pub fn find(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<Label> {
    labels::table
        .filter(labels::account_id.eq(account_id))
        .filter(labels::id.eq(id))
        .select(Label::as_select())
        .first(conn)
}

/// The account's label of this name whatever its case ("vip" finds "VIP"), if any.
pub fn named(conn: &mut DbConnection, account_id: i64, name: &str) -> QueryResult<Option<Label>> {
    let folded = name.to_lowercase();
    Ok(list(conn, account_id)?
        .into_iter()
        .find(|l| l.name.to_lowercase() == folded))
}

/// Stores a label; returns its id. A name the account uses already, in any case, is a unique
/// violation.
pub fn create(
    conn: &mut DbConnection,
    account_id: i64,
    name: &str,
    color: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    crate::insert_returning_id!(
        conn,
        crate::store::schema::labels,
        (
            labels::account_id.eq(account_id),
            labels::name.eq(name),
            labels::color.eq(color),
            labels::created_at.eq(now),
            labels::updated_at.eq(now),
        )
    )
}

/// Renames or recolours a label; returns rows changed.
pub fn update(
    conn: &mut DbConnection,
    account_id: i64,
    id: i64,
    name: &str,
    color: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        labels::table
            .filter(labels::account_id.eq(account_id))
            .filter(labels::id.eq(id)),
    )
    .set((
        labels::name.eq(name),
        labels::color.eq(color),
        labels::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Removes a label from the account and from everything that carried it; returns rows removed.
pub fn delete(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<usize> {
    diesel::delete(
        labels::table
            .filter(labels::account_id.eq(account_id))
            .filter(labels::id.eq(id)),
    )
    .execute(conn)
}

/// The labels of each of the given chats, as (chat, label), by name.
pub fn of_chats(conn: &mut DbConnection, chat_ids: &[i64]) -> QueryResult<Vec<(i64, Label)>> {
    chat_labels::table
        .inner_join(labels::table)
        .filter(chat_labels::chat_id.eq_any(chat_ids))
        .order(labels::name)
        .select((chat_labels::chat_id, Label::as_select()))
        .load(conn)
}

/// The labels of each of the given contacts, as (contact, label), by name.
pub fn of_contacts(conn: &mut DbConnection, contact_ids: &[i64]) -> QueryResult<Vec<(i64, Label)>> {
    contact_labels::table
        .inner_join(labels::table)
        .filter(contact_labels::contact_id.eq_any(contact_ids))
        .order(labels::name)
        .select((contact_labels::contact_id, Label::as_select()))
        .load(conn)
}

/// Puts a label on a chat (`on`) or takes it off; returns whether anything changed.
pub fn set_on_chat(
    conn: &mut DbConnection,
    chat_id: i64,
    label_id: i64,
    on: bool,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let carried = chat_labels::table
        .filter(chat_labels::chat_id.eq(chat_id))
        .filter(chat_labels::label_id.eq(label_id));
    let has: bool = diesel::select(diesel::dsl::exists(carried)).get_result(conn)?;
    match (has, on) {
        (false, true) => diesel::insert_into(chat_labels::table)
            .values((
                chat_labels::chat_id.eq(chat_id),
                chat_labels::label_id.eq(label_id),
                chat_labels::created_at.eq(now),
            ))
            .execute(conn)
            .map(|_| true),
        (true, false) => diesel::delete(carried).execute(conn).map(|_| true),
        _ => Ok(false),
    }
}

/// Puts a label on a contact (`on`) or takes it off; returns whether anything changed.
pub fn set_on_contact(
    conn: &mut DbConnection,
    contact_id: i64,
    label_id: i64,
    on: bool,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let carried = contact_labels::table
        .filter(contact_labels::contact_id.eq(contact_id))
        .filter(contact_labels::label_id.eq(label_id));
    let has: bool = diesel::select(diesel::dsl::exists(carried)).get_result(conn)?;
    match (has, on) {
        (false, true) => diesel::insert_into(contact_labels::table)
            .values((
                contact_labels::contact_id.eq(contact_id),
                contact_labels::label_id.eq(label_id),
                contact_labels::created_at.eq(now),
            ))
            .execute(conn)
            .map(|_| true),
        (true, false) => diesel::delete(carried).execute(conn).map(|_| true),
        _ => Ok(false),
    }
}
