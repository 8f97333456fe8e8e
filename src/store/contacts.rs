//! Contacts: the customers behind chats, one per person per channel.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::contacts;
use crate::model::ChannelKind;

pub use crate::model::Contact;

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
/// (channel, customer id, contact id): one query for all of a group's messages (on SQLite, where
/// a statement costs no round trip, one prepared lookup run for each).
pub fn contact_ids(
    conn: &mut DbConnection,
    keys: &[(i64, &str)],
) -> QueryResult<Vec<(i64, String, i64)>> {
    if let DbConnection::Postgres(c) = conn {
        return super::dialect::pg_by_channel_key(c, "contacts", keys);
    }
    if let DbConnection::Sqlite(c) = conn {
        let mut found = Vec::with_capacity(keys.len());
        for (channel, customer) in keys {
            let id = contacts::table
                .filter(contacts::channel_id.eq(channel))
                .filter(contacts::external_id.eq(customer))
                .select(contacts::id)
                .first::<i64>(c)
                .optional()?;
            found.extend(id.map(|id| (*channel, customer.to_string(), id)));
        }
        return Ok(found);
    }
    let channels: Vec<i64> = keys.iter().map(|(channel, _)| *channel).collect();
    let query = contacts::table
        .filter(contacts::channel_id.eq_any(channels))
        .filter(contacts::external_id.eq_any(keys.iter().map(|(_, id)| *id)))
        .select((contacts::channel_id, contacts::external_id, contacts::id));
    crate::on_backend!(conn, |c| query.load(c))
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

/// Changes to a contact: each field given is set (`Some(None)` clears it).
#[derive(Debug, Clone, Default, PartialEq, AsChangeset)]
#[diesel(table_name = contacts)]
pub struct ContactChanges {
    /// Name.
    pub name: Option<Option<String>>,
    /// Email.
    pub email: Option<Option<String>>,
    /// Phone.
    pub phone: Option<Option<String>>,
    /// The team's notes.
    pub notes: Option<Option<String>>,
    /// Picture.
    pub picture_url: Option<Option<String>>,
    /// A person set the name: lookups leave it.
    pub name_edited: Option<bool>,
    /// A profile lookup succeeded now.
    pub profile_fetched_at: Option<Option<NaiveDateTime>>,
    /// Failed lookups in a row.
    pub profile_attempts: Option<i32>,
    /// When to look the profile up next.
    pub profile_due_at: Option<Option<NaiveDateTime>>,
    /// Why the last lookup failed.
    pub profile_error: Option<Option<String>>,
}

/// Applies changes to a contact, stamping `updated_at`.
pub fn change(
    conn: &mut DbConnection,
    contact_id: i64,
    changes: &ContactChanges,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(contacts::table.find(contact_id))
        .set((changes, contacts::updated_at.eq(now)))
        .execute(conn)
        .map(|_| ())
}

/// Whether a person set the contact's name (a profile lookup then leaves it).
pub fn name_edited(conn: &mut DbConnection, contact_id: i64) -> QueryResult<bool> {
    contacts::table
        .find(contact_id)
        .select(contacts::name_edited)
        .first(conn)
}

/// A customer on a channel with profile lookups (Messenger, Instagram) whose lookup is due.
#[derive(Debug, Clone, Queryable)]
pub struct ProfileDue {
    /// Contact id.
    pub contact_id: i64,
    /// Its account.
    pub account_id: i64,
    /// The customer's id on the channel (PSID, IGSID).
    pub external_id: String,
    /// Failed lookups in a row.
    pub attempts: i32,
    /// The channel's kind (one with a profile lookup).
    #[diesel(deserialize_as = String)]
    pub kind: ChannelKind,
    /// The channel's access token.
    pub token: Option<String>,
}

/// Up to `limit` contacts of active channels of kinds with a profile lookup (Messenger,
/// Instagram) whose lookup is due (never tried, or due by now).
pub fn profiles_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<ProfileDue>> {
    use super::schema::channels;
    let kinds = ChannelKind::ALL
        .iter()
        .filter(|k| k.has_profile_lookup())
        .map(|k| k.as_str());
    contacts::table
        .inner_join(channels::table)
        .filter(channels::kind.eq_any(kinds))
        .filter(channels::is_active.eq(true))
        .filter(
            contacts::profile_due_at
                .is_null()
                .or(contacts::profile_due_at.le(now)),
        )
        .order(contacts::id)
        .limit(limit)
        .select((
            contacts::id,
            contacts::account_id,
            contacts::external_id,
            contacts::profile_attempts,
            channels::kind,
            channels::access_token,
        ))
        .load(conn)
}

/// Takes a due lookup for this process until `until` (another process then skips it); false
/// when another took it first.
pub fn lease_profile(
    conn: &mut DbConnection,
    contact_id: i64,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        contacts::table.find(contact_id).filter(
            contacts::profile_due_at
                .is_null()
                .or(contacts::profile_due_at.le(now)),
        ),
    )
    .set(contacts::profile_due_at.eq(until))
    .execute(conn)
    .map(|n| n == 1)
}
