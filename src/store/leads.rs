//! Leads: customers the AI responder recorded as wanting something, with how to reach them,
//! and where the team stands with each.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::leads;
use crate::model::Lead;

/// The account's lead with this email (lower case), else with this phone.
pub fn find_same(
    conn: &mut DbConnection,
    account_id: i64,
    email: Option<&str>,
    phone: Option<&str>,
) -> QueryResult<Option<i64>> {
    if let Some(email) = email {
        let found = leads::table
            .filter(leads::account_id.eq(account_id))
            .filter(leads::email.eq(email))
            .select(leads::id)
            .order(leads::id)
            .first(conn)
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    match phone {
        Some(phone) => leads::table
            .filter(leads::account_id.eq(account_id))
            .filter(leads::phone.eq(phone))
            .select(leads::id)
            .order(leads::id)
            .first(conn)
            .optional(),
        None => Ok(None),
    }
}

/// Fills in what a lead lacks from a capture in a chat: the chat and contact when it has none
/// (an imported lead who writes in), and name, email, phone, intent and summary when unknown.
pub fn fill_from_capture(
    conn: &mut DbConnection,
    id: i64,
    chat_id: i64,
    contact_id: i64,
    lead: &Lead,
) -> QueryResult<()> {
    let row: LeadRow = leads::table
        .find(id)
        .select(LeadRow::as_select())
        .first(conn)?;
    diesel::update(leads::table.find(id))
        .set((
            leads::chat_id.eq(row.chat_id.unwrap_or(chat_id)),
            leads::contact_id.eq(row.contact_id.unwrap_or(contact_id)),
            leads::name.eq(row.name.or_else(|| lead.name.clone())),
            leads::email.eq(row.email.or_else(|| lead.email.clone())),
            leads::phone.eq(row.phone.or_else(|| lead.phone.clone())),
            leads::intent.eq(row.intent.or_else(|| lead.intent.clone())),
            leads::summary.eq(row.summary.or_else(|| lead.summary.clone())),
        ))
        .execute(conn)
        .map(drop)
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
    /// The chat it was captured in, if any (imported leads have none).
    pub chat_id: Option<i64>,
    /// The customer's contact, if any.
    pub contact_id: Option<i64>,
    /// Name.
    pub name: Option<String>,
    /// Email (lower case).
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
    /// Where it came from: `chat` or `import`.
    pub source: String,
    /// Captured (UTC).
    #[serde(serialize_with = "crate::model::timestamps::utc")]
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    /// Last changed by the team or an import (UTC).
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>)]
    pub updated_at: Option<NaiveDateTime>,
    /// Company.
    pub company: Option<String>,
    /// How they were reached before (as the import says: email, phone, instagram...).
    pub channel: Option<String>,
    /// When the team last spoke with them (UTC).
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>)]
    pub last_contact_at: Option<NaiveDateTime>,
    /// Columns of the import the hub does not know, by name.
    #[serde(serialize_with = "json_text")]
    #[schema(value_type = Option<Object>)]
    pub extra: Option<String>,
    /// The import that last wrote it.
    pub import_id: Option<i64>,
    /// Whether someone should act on it, as the AI analysis says.
    pub needs_action: Option<bool>,
    /// When to act (UTC).
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>)]
    pub next_action_at: Option<NaiveDateTime>,
    /// What to do next.
    pub next_action_description: Option<String>,
    /// `pending`, `done` or `failed`; absent for leads never analysed.
    pub analysis_state: Option<String>,
    /// Why the analysis failed.
    pub analysis_error: Option<String>,
    /// When it was analysed (UTC).
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>)]
    pub analysed_at: Option<NaiveDateTime>,
    /// The fields whose values came from the AI analysis (`status`, `needs_action`,
    /// `next_action_at`, `next_action_description`); the others are what people and files gave.
    #[serde(serialize_with = "field_list")]
    #[schema(value_type = Vec<String>)]
    pub ai_fields: Option<String>,
    /// Why the analysis changed the status, when it did.
    pub status_reason: Option<String>,
    /// The status as the imported file wrote it, when it is not one of the hub's.
    pub source_status: Option<String>,
}

#[cfg(test)]
impl LeadRow {
    /// An imported lead, for tests: Ana of Casa Azul, contacted, with notes and a language.
    pub fn sample() -> Self {
        Self {
            id: 7,
            account_id: 1,
            chat_id: None,
            contact_id: None,
            name: Some("Ana Souza".into()),
            email: Some("ana@example.com".into()),
            phone: None,
            intent: None,
            summary: None,
            status: "contacted".into(),
            notes: Some("Asked for a sofa quote".into()),
            source: "import".into(),
            created_at: chrono::DateTime::UNIX_EPOCH.naive_utc(),
            updated_at: None,
            company: Some("Casa Azul".into()),
            channel: None,
            last_contact_at: None,
            extra: Some(r#"{"language":"pt"}"#.into()),
            import_id: Some(1),
            needs_action: None,
            next_action_at: None,
            next_action_description: None,
            analysis_state: None,
            analysis_error: None,
            analysed_at: None,
            ai_fields: None,
            status_reason: None,
            source_status: None,
        }
    }
}

/// The names in a stored comma-separated list.
pub fn names(list: Option<&str>) -> Vec<&str> {
    list.map(|l| l.split(',').filter(|n| !n.is_empty()).collect())
        .unwrap_or_default()
}

fn field_list<S: serde::Serializer>(list: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    names(list.as_deref()).serialize(s)
}

fn json_text<S: serde::Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    text.as_deref()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .serialize(s)
}

fn utc_opt<S: serde::Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => crate::model::timestamps::utc(t, s),
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
    /// Only leads that need action (or only those that don't).
    pub needs_action: Option<bool>,
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
    let mut query = filtered(account_id, filter);
    if let Some(before) = filter.before {
        query = query.filter(leads::id.lt(before));
    }
    query
        .order(leads::id.desc())
        .limit(limit)
        .select(LeadRow::as_select())
        .load(conn)
}

/// The account's leads that pass the filter (all but its cursor).
fn filtered<'a>(
    account_id: i64,
    filter: &LeadFilter,
) -> leads::BoxedQuery<'a, <DbConnection as diesel::Connection>::Backend> {
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
    if let Some(needs_action) = filter.needs_action {
        query = query.filter(leads::needs_action.eq(needs_action));
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
                .or(lower(leads::phone).like(pattern.clone()).escape('\\'))
                .or(lower(leads::company).like(pattern).escape('\\')),
        );
    }
    if let Some(me) = filter.visible_to_agent {
        query = query.filter(
            leads::chat_id.eq_any(
                chats::table
                    .filter(chats::assignee_id.eq(me).or(chats::assignee_id.is_null()))
                    .select(chats::id.nullable()),
            ),
        );
    }
    query
}

/// One lead of the account.
pub fn find(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<LeadRow> {
    leads::table
        .filter(leads::account_id.eq(account_id))
        .filter(leads::id.eq(id))
        .select(LeadRow::as_select())
        .first(conn)
}

/// One lead, whichever account's.
pub fn get(conn: &mut DbConnection, id: i64) -> QueryResult<LeadRow> {
    leads::table
        .find(id)
        .select(LeadRow::as_select())
        .first(conn)
}

/// What a person sets of a lead.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = leads, treat_none_as_null = true)]
pub struct PersonChange<'a> {
    /// Where the team stands.
    pub status: &'a str,
    /// The team's notes.
    pub notes: Option<&'a str>,
    /// The fields still from the analysis.
    pub ai_fields: Option<&'a str>,
    /// Why the analysis set the status, while it stands.
    pub status_reason: Option<&'a str>,
    /// When.
    pub updated_at: NaiveDateTime,
}

/// Sets what a person changed of a lead.
pub fn update(conn: &mut DbConnection, id: i64, change: &PersonChange<'_>) -> QueryResult<usize> {
    diesel::update(leads::table.find(id))
        .set(change)
        .execute(conn)
}

/// A lead whose analysis is due, and when it fell due (the lease compares it).
#[derive(Debug, Clone, Queryable)]
pub struct AnalysisDue {
    /// The lead.
    pub id: i64,
    /// When its analysis fell due.
    pub due_at: NaiveDateTime,
    /// Failed analyses so far.
    pub attempts: i32,
}

/// Leads whose analysis is due by `now`, longest waiting first.
pub fn analyses_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<AnalysisDue>> {
    leads::table
        .filter(leads::analysis_due_at.le(now))
        .order(leads::analysis_due_at)
        .limit(limit)
        .select((
            leads::id,
            leads::analysis_due_at.assume_not_null(),
            leads::analysis_attempts,
        ))
        .load(conn)
}

/// Takes a due analysis for this process until `until`; false when another took it first.
pub fn lease_analysis(
    conn: &mut DbConnection,
    id: i64,
    due_at: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        leads::table
            .find(id)
            .filter(leads::analysis_due_at.eq(due_at)),
    )
    .set(leads::analysis_due_at.eq(until))
    .execute(conn)
    .map(|n| n == 1)
}

/// What an analysis concluded, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Where the lead stands, as the model sees it.
    pub status: String,
    /// Why the model would change the status; none: it has no reason to.
    pub status_reason: Option<String>,
    /// Whether someone should act.
    pub needs_action: bool,
    /// When.
    pub next_action_at: Option<NaiveDateTime>,
    /// What to do.
    pub next_action_description: Option<String>,
}

/// Holds a lead for the rest of the transaction (a write that changes nothing).
pub fn hold(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    diesel::update(leads::table.find(id))
        .set(leads::status.eq(leads::status))
        .execute(conn)
        .map(drop)
}

/// Sets the status the analysis gave, with its reason, when the lead still stands at `from`;
/// false when someone changed it meanwhile.
pub fn set_model_status(
    conn: &mut DbConnection,
    id: i64,
    from: &str,
    to: &str,
    reason: &str,
) -> QueryResult<bool> {
    diesel::update(leads::table.find(id).filter(leads::status.eq(from)))
        .set((leads::status.eq(to), leads::status_reason.eq(reason)))
        .execute(conn)
        .map(|n| n == 1)
}

/// Stores a lead's analysis (all but the status) and which fields came from it.
pub fn analysed(
    conn: &mut DbConnection,
    id: i64,
    analysis: &Analysis,
    ai_fields: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(leads::table.find(id))
        .set((
            leads::ai_fields.eq(ai_fields),
            leads::needs_action.eq(analysis.needs_action),
            leads::next_action_at.eq(analysis.next_action_at),
            leads::next_action_description.eq(&analysis.next_action_description),
            leads::analysis_state.eq("done"),
            leads::analysis_error.eq(None::<String>),
            leads::analysis_due_at.eq(None::<NaiveDateTime>),
            leads::analysed_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Records a failed analysis: tried again at `retry_at`, or, without one, left unanalysed with
/// the reason.
pub fn analysis_failed(
    conn: &mut DbConnection,
    id: i64,
    attempts: i32,
    reason: &str,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<()> {
    let state = if retry_at.is_some() {
        "pending"
    } else {
        "failed"
    };
    diesel::update(leads::table.find(id))
        .set((
            leads::analysis_state.eq(state),
            leads::analysis_error.eq(reason),
            leads::analysis_attempts.eq(attempts),
            leads::analysis_due_at.eq(retry_at),
        ))
        .execute(conn)
        .map(drop)
}

/// The account's leads that need action, soonest first (those without a date last).
pub fn needing_action(
    conn: &mut DbConnection,
    account_id: i64,
    visible_to_agent: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<LeadRow>> {
    let filter = LeadFilter {
        needs_action: Some(true),
        visible_to_agent,
        ..Default::default()
    };
    filtered(account_id, &filter)
        .order((
            leads::next_action_at.is_null(),
            leads::next_action_at,
            leads::id,
        ))
        .limit(limit)
        .select(LeadRow::as_select())
        .load(conn)
}
