//! Canned responses: an account's ready answers, each found by its shortcut.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::connection::DbConnection;
use super::schema::canned_responses;

/// A canned response as stored.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = canned_responses)]
pub struct CannedResponse {
    /// Primary key.
    pub id: i64,
    /// Owning account.
    #[serde(skip)]
    pub account_id: i64,
    /// What an agent types after `/` to find it.
    pub shortcut: String,
    /// The answer; `{{contact.name}}` and `{{contact.first_name}}` are filled in when used.
    pub text: String,
    /// Who wrote it.
    pub created_by: Option<i64>,
    /// Created (UTC).
    #[serde(serialize_with = "crate::model::timestamps::utc")]
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    /// Last changed (UTC).
    #[serde(serialize_with = "crate::model::timestamps::utc")]
    #[schema(value_type = String)]
    pub updated_at: NaiveDateTime,
}

/// The account's canned responses by shortcut; with `search`, those whose shortcut or text
/// contains it, whatever the case.
pub fn list(
    conn: &mut DbConnection,
    account_id: i64,
    search: Option<&str>,
) -> QueryResult<Vec<CannedResponse>> {
    let mut query = canned_responses::table
        .filter(canned_responses::account_id.eq(account_id))
        .order(canned_responses::shortcut)
        .select(CannedResponse::as_select())
        .into_boxed();
    if let Some(search) = search {
        let pattern = format!("%{}%", like_escaped(&search.to_lowercase()));
        query = query.filter(
            lower(canned_responses::shortcut)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(canned_responses::text).like(pattern).escape('\\')),
        );
    }
    query.load(conn)
}

diesel::define_sql_function! {
    /// SQL `lower`: the search ignores case on every backend.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `text` with LIKE's wildcards taken literally.
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// One canned response of the account.
pub fn find(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<CannedResponse> {
    canned_responses::table
        .filter(canned_responses::account_id.eq(account_id))
        .filter(canned_responses::id.eq(id))
        .select(CannedResponse::as_select())
        .first(conn)
}

/// Stores a canned response; returns its id. A shortcut the account uses already is a unique
/// violation.
pub fn create(
    conn: &mut DbConnection,
    account_id: i64,
    shortcut: &str,
    text: &str,
    created_by: i64,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    crate::insert_returning_id!(
        conn,
        crate::store::schema::canned_responses,
        (
            canned_responses::account_id.eq(account_id),
            canned_responses::shortcut.eq(shortcut),
            canned_responses::text.eq(text),
            canned_responses::created_by.eq(created_by),
            canned_responses::created_at.eq(now),
            canned_responses::updated_at.eq(now),
        )
    )
}

/// Changes a canned response's shortcut and text; returns rows changed.
pub fn update(
    conn: &mut DbConnection,
    account_id: i64,
    id: i64,
    shortcut: &str,
    text: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        canned_responses::table
            .filter(canned_responses::account_id.eq(account_id))
            .filter(canned_responses::id.eq(id)),
    )
    .set((
        canned_responses::shortcut.eq(shortcut),
        canned_responses::text.eq(text),
        canned_responses::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Removes a canned response; returns rows removed.
pub fn delete(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<usize> {
    diesel::delete(
        canned_responses::table
            .filter(canned_responses::account_id.eq(account_id))
            .filter(canned_responses::id.eq(id)),
    )
    .execute(conn)
}
