//! Leads: customers the AI responder recorded as wanting something, with how to reach them,
//! and where the team stands with each.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::leads;
use crate::model::Lead;

/// Whether a chat has a lead with this email already.
pub fn has_email(conn: &mut DbConnection, chat_id: i64, email: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        leads::table
            .filter(leads::chat_id.eq(chat_id))
            .filter(leads::email.eq(email)),
    ))
    .get_result(conn)
}

/// Whether a chat has a lead with this phone number already.
pub fn has_phone(conn: &mut DbConnection, chat_id: i64, phone: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        leads::table
            .filter(leads::chat_id.eq(chat_id))
            .filter(leads::phone.eq(phone)),
    ))
    .get_result(conn)
}

/// Stores a lead; returns its id.
pub fn create(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    contact_id: i64,
    lead: &Lead,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    crate::insert_returning_id!(
        conn,
        crate::store::schema::leads,
        (
            leads::account_id.eq(account_id),
            leads::chat_id.eq(chat_id),
            leads::contact_id.eq(contact_id),
            leads::name.eq(&lead.name),
            leads::email.eq(&lead.email),
            leads::phone.eq(&lead.phone),
            leads::intent.eq(&lead.intent),
            leads::summary.eq(&lead.summary),
            leads::created_at.eq(now),
        )
    )
}

/// A lead as stored.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = leads)]
pub struct LeadRow {
    /// Primary key.
    pub id: i64,
    /// Owning account.
    #[serde(skip)]
    pub account_id: i64,
    /// The chat it was captured in.
    pub chat_id: i64,
    /// The customer.
    pub contact_id: i64,
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// What they want.
    pub intent: Option<String>,
    /// A sentence about the conversation.
    pub summary: Option<String>,
    /// `new`, `contacted`, `qualified`, `won` or `lost`.
    pub status: String,
    /// What the team noted.
    pub notes: Option<String>,
    /// Where it came from: `chat`.
    pub source: String,
    /// Captured (UTC).
    #[serde(serialize_with = "super::chats::utc")]
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    /// Last changed by the team (UTC).
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>)]
    pub updated_at: Option<NaiveDateTime>,
}

fn utc_opt<S: serde::Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => super::chats::utc(t, s),
        None => s.serialize_none(),
    }
}

/// Which leads a listing wants.
#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    /// Only leads in this status.
    pub status: Option<String>,
    /// Only leads from this source.
    pub source: Option<String>,
    /// Only leads whose name, email or phone contains this (any case).
    pub text: Option<String>,
    /// Agents: only leads of chats assigned to them or unassigned.
    pub visible_to_agent: Option<i64>,
    /// Keyset cursor: leads with a smaller id.
    pub before: Option<i64>,
}

diesel::define_sql_function! {
    /// SQL `lower`, so text filters ignore case on every backend.
    fn lower(text: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// A page of the account's leads, newest first.
pub fn page(
    conn: &mut DbConnection,
    account_id: i64,
    filter: &LeadFilter,
    limit: i64,
) -> QueryResult<Vec<LeadRow>> {
    use super::schema::chats;
    let mut query = leads::table
        .filter(leads::account_id.eq(account_id))
        .into_boxed();
    if let Some(status) = &filter.status {
        query = query.filter(leads::status.eq(status.clone()));
    }
    if let Some(source) = &filter.source {
        query = query.filter(leads::source.eq(source.clone()));
    }
    if let Some(text) = &filter.text {
        let pattern = format!(
            "%{}%",
            text.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        query = query.filter(
            lower(leads::name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(leads::email).like(pattern.clone()).escape('\\'))
                .or(lower(leads::phone).like(pattern).escape('\\')),
        );
    }
    if let Some(me) = filter.visible_to_agent {
        query = query.filter(
            leads::chat_id.eq_any(
                chats::table
                    .filter(chats::assignee_id.eq(me).or(chats::assignee_id.is_null()))
                    .select(chats::id),
            ),
        );
    }
    if let Some(before) = filter.before {
        query = query.filter(leads::id.lt(before));
    }
    query
        .order(leads::id.desc())
        .limit(limit)
        .select(LeadRow::as_select())
        .load(conn)
}

/// One lead of the account.
pub fn find(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<LeadRow> {
    leads::table
        .filter(leads::account_id.eq(account_id))
        .filter(leads::id.eq(id))
        .select(LeadRow::as_select())
        .first(conn)
}

/// Sets a lead's status and notes.
pub fn update(
    conn: &mut DbConnection,
    id: i64,
    status: &str,
    notes: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(leads::table.find(id))
        .set((
            leads::status.eq(status),
            leads::notes.eq(notes),
            leads::updated_at.eq(now),
        ))
        .execute(conn)
}
