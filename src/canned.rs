//! Canned responses: admins keep an account's ready answers; everyone finds them by shortcut.

use chrono::Utc;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::error::{AppError, AppResult};
use crate::store::canned::{self, CannedResponse};

/// Longest shortcut, in characters.
const MAX_SHORTCUT: usize = 32;

/// Longest answer, as long as a reply may be.
const MAX_TEXT: usize = crate::chats::MAX_TEXT;

/// A new canned response, or every field of a changed one.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedInput {
    /// 1 to 32 of `a-z`, `0-9`, `-` and `_` (typed after `/` in the composer).
    #[schema(pattern = r"^/*[A-Za-z0-9_-]{1,32}$")]
    pub shortcut: String,
    /// 1 to 4000 characters; `{{contact.name}}` and `{{contact.first_name}}` are filled in.
    #[schema(
        max_length = 4000,
        pattern = r"^[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000]([^\u0000]*[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000])?$"
    )]
    pub text: String,
}

/// A change to a canned response: the fields given.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedChange {
    /// New shortcut.
    #[schema(pattern = r"^/*[A-Za-z0-9_-]{1,32}$")]
    pub shortcut: Option<String>,
    /// New text.
    #[schema(
        max_length = 4000,
        pattern = r"^[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000]([^\u0000]*[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000])?$"
    )]
    pub text: Option<String>,
}

/// `GET /api/canned-responses` filter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CannedQuery {
    /// Only those whose shortcut or text contains this.
    pub q: Option<String>,
}

/// The account's canned responses by shortcut (everyone logged in).
pub async fn list(
    state: &AppState,
    me: &CurrentUser,
    query: CannedQuery,
) -> AppResult<Vec<CannedResponse>> {
    let account = me.principal.account_id;
    let search = query
        .q
        .map(|q| q.trim().to_string())
        .filter(|q| !q.is_empty());
    if search
        .as_ref()
        .is_some_and(|q| q.chars().count() > MAX_TEXT)
    {
        return Err(AppError::unprocessable("invalid_query", "q is too long"));
    }
    Ok(state
        .db()
        .run(move |conn| canned::list(conn, account, search.as_deref()))
        .await?)
}

/// Adds a canned response (admins); a shortcut the account has already is a 409.
pub async fn create(
    state: &AppState,
    me: &CurrentUser,
    input: CannedInput,
) -> AppResult<CannedResponse> {
    me.principal.authorize(Action::ManageCannedResponses)?;
    let (shortcut, text) = (shortcut(&input.shortcut)?, text(&input.text)?);
    let (account, user) = (me.principal.account_id, me.principal.user_id);
    Ok(state
        .db()
        .run(move |conn| -> AppResult<CannedResponse> {
            let now = Utc::now().naive_utc();
            let id = canned::create(conn, account, &shortcut, &text, user, now).map_err(taken)?;
            Ok(canned::find(conn, account, id)?)
        })
        .await?)
}

/// Changes a canned response (admins); another account's is a 404.
pub async fn update(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    change: CannedChange,
) -> AppResult<CannedResponse> {
    me.principal.authorize(Action::ManageCannedResponses)?;
    let new_shortcut = change.shortcut.as_deref().map(shortcut).transpose()?;
    let new_text = change.text.as_deref().map(text).transpose()?;
    let account = me.principal.account_id;
    Ok(state
        .db()
        .run(move |conn| -> AppResult<CannedResponse> {
            let current = canned::find(conn, account, id)
                .map_err(|_| AppError::not_found("no such canned response"))?;
            let shortcut = new_shortcut.unwrap_or(current.shortcut);
            let text = new_text.unwrap_or(current.text);
            let now = Utc::now().naive_utc();
            canned::update(conn, account, id, &shortcut, &text, now).map_err(taken)?;
            Ok(canned::find(conn, account, id)?)
        })
        .await?)
}

/// Removes a canned response (admins); another account's is a 404.
pub async fn remove(state: &AppState, me: &CurrentUser, id: i64) -> AppResult<()> {
    me.principal.authorize(Action::ManageCannedResponses)?;
    let account = me.principal.account_id;
    match state
        .db()
        .run(move |conn| canned::delete(conn, account, id))
        .await?
    {
        0 => Err(AppError::not_found("no such canned response")),
        _ => Ok(()),
    }
}

fn shortcut(given: &str) -> AppResult<String> {
    let shortcut = given.trim().trim_start_matches('/').to_lowercase();
    let valid = !shortcut.is_empty()
        && shortcut.chars().count() <= MAX_SHORTCUT
        && shortcut
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(shortcut)
    } else {
        Err(AppError::unprocessable(
            "invalid_shortcut",
            "shortcut must be 1 to 32 of a-z, 0-9, - and _",
        ))
    }
}

fn text(given: &str) -> AppResult<String> {
    let text = given.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        return Err(AppError::unprocessable(
            "invalid_text",
            "text must be 1 to 4000 characters",
        ));
    }
    Ok(text.to_string())
}

fn taken(e: DieselError) -> AppError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => AppError::conflict(
            "shortcut_taken",
            "the account has a canned response with this shortcut already",
        ),
        other => other.into(),
    }
}
