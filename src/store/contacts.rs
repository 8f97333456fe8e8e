//! Contacts: the customers behind chats, one per person per channel.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::connection::DbConnection;
use super::schema::contacts;

/// The contact id for a customer on a channel, created when new.
pub fn upsert_contact(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    external_id: &str,
) -> QueryResult<i64> {
    let query = contacts::table
        .filter(contacts::channel_id.eq(channel_id))
        .filter(contacts::external_id.eq(external_id))
        .select(contacts::id);
    let existing = crate::on_backend!(&mut *conn, |c| query.first::<i64>(c).optional())?;
    match existing {
        Some(id) => Ok(id),
        None => create_contact(conn, account_id, channel_id, external_id),
    }
}

/// Stores a customer new on a channel; returns the contact id.
pub fn create_contact(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    external_id: &str,
) -> QueryResult<i64> {
    let now = Utc::now().naive_utc();
    crate::insert_returning_id!(
        conn,
        crate::store::schema::contacts,
        (
            contacts::account_id.eq(account_id),
            contacts::channel_id.eq(channel_id),
            contacts::external_id.eq(external_id),
            contacts::created_at.eq(now),
            contacts::updated_at.eq(now),
        )
    )
}

/// The stored ones of the given customers, each a (channel, the customer's id on it) pair, as
/// (channel, customer id, contact id): one query for all of a group's messages.
pub fn contact_ids(
    conn: &mut DbConnection,
    keys: &[(i64, &str)],
) -> QueryResult<Vec<(i64, String, i64)>> {
    if let DbConnection::Postgres(c) = conn {
        return super::dialect::pg_by_channel_key(c, "contacts", keys);
    }
    let channels: Vec<i64> = keys.iter().map(|(channel, _)| *channel).collect();
    let query = contacts::table
        .filter(contacts::channel_id.eq_any(channels))
        .filter(contacts::external_id.eq_any(keys.iter().map(|(_, id)| *id)))
        .select((contacts::channel_id, contacts::external_id, contacts::id));
    crate::on_backend!(conn, |c| query.load(c))
}

/// A chat's customer.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = contacts)]
pub struct Contact {
    /// Id.
    pub id: i64,
    /// The customer's id on the channel.
    pub external_id: String,
    /// Name, when known.
    pub name: Option<String>,
    /// Email, when known.
    pub email: Option<String>,
    /// Phone, when known.
    pub phone: Option<String>,
}

/// One contact of the account.
pub fn find(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<Contact> {
    contacts::table
        .filter(contacts::account_id.eq(account_id))
        .filter(contacts::id.eq(id))
        .select(Contact::as_select())
        .first(conn)
}

/// One contact.
pub fn contact(conn: &mut DbConnection, id: i64) -> QueryResult<Contact> {
    contacts::table
        .find(id)
        .select(Contact::as_select())
        .first(conn)
}

/// Sets what a widget visitor told about themselves.
pub fn set_contact_details(
    conn: &mut DbConnection,
    contact_id: i64,
    name: Option<String>,
    email: Option<String>,
) -> QueryResult<()> {
    diesel::update(contacts::table.find(contact_id))
        .set((contacts::name.eq(name), contacts::email.eq(email)))
        .execute(conn)
        .map(|_| ())
}

/// The contact with this id on a channel, if any.
pub fn contact_by_external(
    conn: &mut DbConnection,
    channel_id: i64,
    external_id: &str,
) -> QueryResult<Option<i64>> {
    contacts::table
        .filter(contacts::channel_id.eq(channel_id))
        .filter(contacts::external_id.eq(external_id))
        .select(contacts::id)
        .first::<i64>(conn)
        .optional()
}

/// Fills in what a lead told of the contact: a known name stays, a new email or phone wins.
pub fn fill_contact_from_lead(
    conn: &mut DbConnection,
    contact_id: i64,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let contact = contact(conn, contact_id)?;
    diesel::update(contacts::table.find(contact_id))
        .set((
            contacts::name.eq(contact.name.or(name)),
            contacts::email.eq(email.or(contact.email)),
            contacts::phone.eq(phone.or(contact.phone)),
            contacts::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}
