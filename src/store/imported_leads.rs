//! Leads as imports store them: the leads a chunk's rows may match, a row stored as a new
//! lead or merged into one, and the customers a row is linked to.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::leads::LeadRow;
use super::schema::leads;

diesel::define_sql_function! {
    /// SQL `lower`, as the leads' own filters use it.
    fn lower(text: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// The account's leads with one of these emails (lower case) or phones, in one query that the
/// `(account_id, email)` and `(account_id, phone)` indexes answer, oldest first.
pub fn matching(
    conn: &mut DbConnection,
    account_id: i64,
    emails: &[String],
    phones: &[String],
) -> QueryResult<Vec<LeadRow>> {
    if emails.is_empty() && phones.is_empty() {
        return Ok(Vec::new());
    }
    leads::table
        .filter(leads::account_id.eq(account_id))
        .filter(leads::email.eq_any(emails).or(leads::phone.eq_any(phones)))
        .order(leads::id)
        .select(LeadRow::as_select())
        .load(conn)
}

/// The account's newest lead id (0 without leads): the leads created after it are read again,
/// by `created_since`, once the account's write lock is held.
pub fn newest_id(conn: &mut DbConnection, account_id: i64) -> QueryResult<i64> {
    leads::table
        .filter(leads::account_id.eq(account_id))
        .select(diesel::dsl::max(leads::id))
        .first::<Option<i64>>(conn)
        .map(Option::unwrap_or_default)
}

/// The account's leads created after lead `after`, oldest first (the `(account_id, id)` index).
pub fn created_since(
    conn: &mut DbConnection,
    account_id: i64,
    after: i64,
) -> QueryResult<Vec<LeadRow>> {
    leads::table
        .filter(leads::account_id.eq(account_id))
        .filter(leads::id.gt(after))
        .order(leads::id)
        .select(LeadRow::as_select())
        .load(conn)
}

/// One row of an import, checked: what it says of the lead.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportedLead {
    /// Name.
    pub name: Option<String>,
    /// Email, lower case.
    pub email: Option<String>,
    /// Phone, as `model::normalize_phone` keeps it.
    pub phone: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// How they were reached before.
    pub channel: Option<String>,
    /// Where the team stands, when the row says (or the import's status map does).
    pub status: Option<String>,
    /// The row's status as written, when it is not one of the hub's.
    pub source_status: Option<String>,
    /// The word in the row's status column that is not one of the hub's (not stored: the import
    /// maps it and counts it).
    pub status_word: Option<String>,
    /// What they want.
    pub intent: Option<String>,
    /// A sentence about them.
    pub summary: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// When they were last spoken with.
    pub last_contact_at: Option<NaiveDateTime>,
    /// Other columns, as a JSON object text.
    pub extra: Option<String>,
}

/// A chat and its customer an imported lead is linked to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// The customer's contact.
    pub contact_id: i64,
    /// Their latest chat.
    pub chat_id: i64,
}

/// Stores an imported row as a new lead, linked to the customer's chat when one is known;
/// when `analyse`, its analysis is due now.
pub fn insert_imported(
    conn: &mut DbConnection,
    account_id: i64,
    import_id: i64,
    row: &ImportedLead,
    link: Option<Link>,
    analyse: bool,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let (state, due) = if analyse {
        (Some("pending"), Some(now))
    } else {
        (None, None)
    };
    crate::insert_returning_id!(
        conn,
        crate::store::schema::leads,
        (
            (
                leads::account_id.eq(account_id),
                leads::contact_id.eq(link.map(|l| l.contact_id)),
                leads::chat_id.eq(link.map(|l| l.chat_id)),
                leads::name.eq(&row.name),
                leads::email.eq(&row.email),
                leads::phone.eq(&row.phone),
                leads::company.eq(&row.company),
                leads::channel.eq(&row.channel),
                leads::status.eq(row.status.as_deref().unwrap_or("new")),
                leads::source_status.eq(&row.source_status),
                leads::notes.eq(&row.notes),
                leads::intent.eq(&row.intent),
                leads::summary.eq(&row.summary),
            ),
            (
                leads::last_contact_at.eq(row.last_contact_at),
                leads::extra.eq(&row.extra),
                leads::source.eq("import"),
                leads::import_id.eq(import_id),
                leads::created_at.eq(now),
                leads::analysis_state.eq(state),
                leads::analysis_due_at.eq(due),
            ),
        )
    )
}

/// What merging an imported row changes of the lead it matches: the fields given are set.
#[derive(Debug, Clone, Default, PartialEq, AsChangeset)]
#[diesel(table_name = leads)]
pub struct LeadMerge {
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// The file's status word.
    pub source_status: Option<String>,
    /// Notes (with the row's appended).
    pub notes: Option<String>,
    /// What they want.
    pub intent: Option<String>,
    /// A sentence about them.
    pub summary: Option<String>,
    /// Last contact.
    pub last_contact_at: Option<NaiveDateTime>,
    /// Extra fields (with the row's new ones).
    pub extra: Option<String>,
    /// The customer's contact.
    pub contact_id: Option<i64>,
    /// Their chat.
    pub chat_id: Option<i64>,
    /// The fields still from the analysis (`Some(None)`: none).
    pub ai_fields: Option<Option<String>>,
    /// Why the analysis set the status (`Some(None)` clears it).
    pub status_reason: Option<Option<String>>,
}

/// Merges an imported row into the lead it matches. When the merge changed something, the
/// lead is marked written by this import and, when `analyse`, its analysis is due again.
pub fn merge_imported(
    conn: &mut DbConnection,
    id: i64,
    import_id: i64,
    merge: &LeadMerge,
    analyse: bool,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if merge == &LeadMerge::default() {
        return Ok(());
    }
    diesel::update(leads::table.find(id))
        .set((
            merge,
            leads::import_id.eq(import_id),
            leads::updated_at.eq(now),
        ))
        .execute(conn)?;
    if analyse {
        diesel::update(leads::table.find(id))
            .set((
                leads::analysis_state.eq("pending"),
                leads::analysis_error.eq(None::<String>),
                leads::analysis_attempts.eq(0),
                leads::analysis_due_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

diesel::define_sql_function! {
    /// SQL `trim`.
    fn trim(text: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

diesel::define_sql_function! {
    /// SQL `replace`.
    fn replace(text: diesel::sql_types::Nullable<diesel::sql_types::Text>, from: diesel::sql_types::Text, to: diesel::sql_types::Text) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// The account's customers who chatted with one of these emails (lower case) or phones (digits
/// and a leading `+`), compared as leads keep them: each with their latest chat.
pub fn links(
    conn: &mut DbConnection,
    account_id: i64,
    emails: &[String],
    phones: &[String],
) -> QueryResult<Links> {
    use super::schema::{chats, contacts};
    let mut found = Links::default();
    if !emails.is_empty() {
        let email = lower(trim(contacts::email));
        let rows: Vec<(Option<String>, i64, i64)> = chats::table
            .inner_join(contacts::table)
            .filter(contacts::account_id.eq(account_id))
            .filter(email.eq_any(emails))
            .order(chats::updated_at.desc())
            .select((email, contacts::id, chats::id))
            .load(conn)?;
        for (email, contact_id, chat_id) in rows {
            if let Some(email) = email {
                found.by_email.entry(email).or_insert(Link {
                    contact_id,
                    chat_id,
                });
            }
        }
    }
    if !phones.is_empty() {
        let digits = replace(
            replace(
                replace(replace(replace(contacts::phone, " ", ""), "-", ""), "(", ""),
                ")",
                "",
            ),
            ".",
            "",
        );
        let rows: Vec<(Option<String>, i64, i64)> = chats::table
            .inner_join(contacts::table)
            .filter(contacts::account_id.eq(account_id))
            .filter(digits.eq_any(phones))
            .order(chats::updated_at.desc())
            .select((digits, contacts::id, chats::id))
            .load(conn)?;
        for (phone, contact_id, chat_id) in rows {
            if let Some(phone) = phone {
                found.by_phone.entry(phone).or_insert(Link {
                    contact_id,
                    chat_id,
                });
            }
        }
    }
    Ok(found)
}

/// Customers found by email and by phone.
#[derive(Debug, Default, Clone)]
pub struct Links {
    /// By email (lower case).
    pub by_email: std::collections::HashMap<String, Link>,
    /// By phone (digits and a leading `+`).
    pub by_phone: std::collections::HashMap<String, Link>,
}

impl Links {
    /// The customer an imported row is: by its email, else its phone.
    pub fn of(&self, row: &ImportedLead) -> Option<Link> {
        row.email
            .as_ref()
            .and_then(|e| self.by_email.get(e))
            .or_else(|| row.phone.as_ref().and_then(|p| self.by_phone.get(p)))
            .copied()
    }
}
