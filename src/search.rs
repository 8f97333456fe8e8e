//! Search: the account's messages and contacts by their words, within what the caller may see.

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::model::Role;
use crate::store::search::{self, ContactHit, MessageHit};

/// Longest search text, in characters.
const MAX_QUERY: usize = 200;

/// `GET /api/search` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find (each must match, as a word or the start of one): up to 200 characters
    /// holding at least one letter or digit of any script (422 `invalid_query` otherwise; the
    /// pattern can only say "not only ASCII punctuation and spaces").
    #[param(
        max_length = 200,
        pattern = r"^[^\u0000]*[^\u0000-\u002f\u003a-\u0040\u005b-\u0060\u007b-\u007f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub q: String,
    /// Most hits of each kind, 1 to 50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// What a search found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    /// Matching messages, newest first.
    pub messages: Vec<MessageHit>,
    /// Matching contacts, the most recently active first.
    pub contacts: Vec<ContactHit>,
}

/// Messages and contacts matching the search; agents find only what is in their chats and the
/// queue.
pub async fn search(
    state: &AppState,
    me: &CurrentUser,
    query: SearchQuery,
) -> AppResult<SearchResults> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=50).contains(&limit) {
        return Err(AppError::unprocessable(
            "invalid_limit",
            "limit must be 1 to 50",
        ));
    }
    if query.q.chars().count() > MAX_QUERY {
        return Err(AppError::unprocessable(
            "invalid_query",
            "q must be at most 200 characters",
        ));
    }
    let words = search::words(&query.q);
    if words.is_empty() {
        return Err(AppError::unprocessable(
            "invalid_query",
            "q must hold at least one word",
        ));
    }
    let account = me.principal.account_id;
    let agent = (me.principal.role == Role::Agent).then_some(me.principal.user_id);
    Ok(state
        .db()
        .run(move |conn| -> diesel::QueryResult<SearchResults> {
            Ok(SearchResults {
                messages: search::messages(conn, account, &words, agent, limit)?,
                contacts: search::contacts(conn, account, &words, agent, limit)?,
            })
        })
        .await?)
}
