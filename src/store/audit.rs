//! The audit log: who did what, when, from where, per account.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::connection::DbConnection;
use super::schema::audit_log;

/// One recorded action.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    /// Primary key, increasing.
    pub id: i64,
    /// The account it happened in.
    #[serde(skip)]
    pub account_id: i64,
    /// Who did it, when known.
    pub actor_user_id: Option<i64>,
    /// What happened, e.g. `login.succeeded`, `user.updated`, `password.reset`.
    pub action: String,
    /// The kind of thing acted on, e.g. `user`.
    pub target_type: Option<String>,
    /// Its id.
    pub target_id: Option<String>,
    /// The client's address.
    pub ip: Option<String>,
    /// Extra facts as JSON text.
    pub details: Option<String>,
    /// When it happened, RFC 3339 in UTC.
    #[serde(serialize_with = "crate::model::timestamps::utc")]
    #[schema(value_type = chrono::DateTime<Utc>)]
    pub created_at: NaiveDateTime,
}

/// What to record.
#[derive(Debug, Default)]
pub struct NewEntry<'a> {
    /// The account it happened in.
    pub account_id: i64,
    /// Who did it.
    pub actor_user_id: Option<i64>,
    /// What happened.
    pub action: &'a str,
    /// The kind of thing acted on.
    pub target_type: Option<&'a str>,
    /// Its id.
    pub target_id: Option<String>,
    /// The client's address.
    pub ip: Option<&'a str>,
    /// Extra facts.
    pub details: Option<serde_json::Value>,
}

/// Appends an entry.
pub fn record(conn: &mut DbConnection, entry: NewEntry<'_>) -> QueryResult<()> {
    let details = entry.details.map(|d| d.to_string());
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::account_id.eq(entry.account_id),
            audit_log::actor_user_id.eq(entry.actor_user_id),
            audit_log::action.eq(entry.action),
            audit_log::target_type.eq(entry.target_type),
            audit_log::target_id.eq(entry.target_id),
            audit_log::ip.eq(entry.ip),
            audit_log::details.eq(details),
            audit_log::created_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The newest entries of an account, older than `before` when given.
pub fn list(
    conn: &mut DbConnection,
    account_id: i64,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    let mut query = audit_log::table
        .filter(audit_log::account_id.eq(account_id))
        .order(audit_log::id.desc())
        .limit(limit)
        .select(AuditEntry::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before));
    }
    query.load(conn)
}
