//! `/api/contacts/{id}`: a customer's details, as the team sees and edits them.

use axum::extract::{Path, State};

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::contacts::{self, ContactEdit, ContactErased, ContactView};
use crate::error::AppResult;

/// A contact the caller may reach (agents: customers of chats they may see), with its labels.
#[utoipa::path(get, path = "/api/contacts/{id}", operation_id = "getContact", tag = "contacts", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Contact id")),
    responses((status = 200, body = ContactView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ContactView>> {
    contacts::show(&state, &me, id).await.map(Json)
}

/// Edits a contact's name, email, phone or notes; `null` clears a field.
#[utoipa::path(patch, path = "/api/contacts/{id}", operation_id = "updateContact", tag = "contacts", security(("bearer" = [])), request_body = ContactEdit,
    params(("id" = i64, Path, description = "Contact id")),
    responses((status = 200, body = ContactView), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Json(edit): Json<ContactEdit>,
) -> AppResult<Json<ContactView>> {
    contacts::edit(&state, &me, id, edit).await.map(Json)
}

/// Erases a customer and everything of theirs: chats, messages, kept files, events, labels
/// and widget sessions (admins); leads that name them stay, unlinked. Answers what was removed.
#[utoipa::path(delete, path = "/api/contacts/{id}", operation_id = "eraseContact", tag = "contacts", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Contact id")),
    responses((status = 200, body = ContactErased), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn erase(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ContactErased>> {
    contacts::erase(&state, &me, id).await.map(Json)
}
