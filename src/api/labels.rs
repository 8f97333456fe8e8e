//! `/api/labels`, and labels on chats and contacts.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::chats::ChatView;
use crate::error::AppResult;
use crate::labels::{self, ContactLabels, LabelInput, LabelRef, NewLabel};
use crate::store::labels::Label;

/// The account's labels, by name.
#[utoipa::path(get, path = "/api/labels", operation_id = "listLabels", tag = "labels", security(("bearer" = [])),
    responses((status = 200, body = Vec<Label>)))]
pub async fn list(State(state): State<AppState>, me: CurrentUser) -> AppResult<Json<Vec<Label>>> {
    labels::list(&state, &me).await.map(Json)
}

/// Adds a label (admins).
#[utoipa::path(post, path = "/api/labels", operation_id = "createLabel", tag = "labels", security(("bearer" = [])), request_body = NewLabel,
    responses((status = 201, body = Label), (status = 403, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(input): Json<NewLabel>,
) -> AppResult<(StatusCode, Json<Label>)> {
    let label = labels::create(&state, &me, input).await?;
    Ok((StatusCode::CREATED, Json(label)))
}

/// Renames or recolours a label (admins).
#[utoipa::path(patch, path = "/api/labels/{id}", operation_id = "updateLabel", tag = "labels", security(("bearer" = [])), request_body = LabelInput,
    params(("id" = i64, Path, description = "Label id")),
    responses((status = 200, body = Label), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<LabelInput>,
) -> AppResult<Json<Label>> {
    labels::update(&state, &me, id, input).await.map(Json)
}

/// Removes a label, from the account and from every chat and contact (admins).
#[utoipa::path(delete, path = "/api/labels/{id}", operation_id = "deleteLabel", tag = "labels", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Label id")),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    labels::remove(&state, &me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts a label on a chat the caller may see; `chat.updated` tells everyone who sees it.
#[utoipa::path(post, path = "/api/chats/{id}/labels", operation_id = "labelChat", tag = "labels", security(("bearer" = [])), request_body = LabelRef,
    params(("id" = i64, Path, description = "Chat id")),
    responses((status = 200, body = ChatView), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn label_chat(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<LabelRef>,
) -> AppResult<Json<ChatView>> {
    labels::label_chat(&state, &me, id, input.label_id, true)
        .await
        .map(Json)
}

/// Takes a label off a chat the caller may see.
#[utoipa::path(delete, path = "/api/chats/{id}/labels/{label_id}", operation_id = "unlabelChat", tag = "labels", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Chat id"), ("label_id" = i64, Path, description = "Label id")),
    responses((status = 200, body = ChatView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn unlabel_chat(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((id, label_id)): Path<(i64, i64)>,
) -> AppResult<Json<ChatView>> {
    labels::label_chat(&state, &me, id, label_id, false)
        .await
        .map(Json)
}

/// Puts a label on a contact: every chat of theirs shows it.
#[utoipa::path(post, path = "/api/contacts/{id}/labels", operation_id = "labelContact", tag = "labels", security(("bearer" = [])), request_body = LabelRef,
    params(("id" = i64, Path, description = "Contact id")),
    responses((status = 200, body = ContactLabels), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn label_contact(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<LabelRef>,
) -> AppResult<Json<ContactLabels>> {
    labels::label_contact(&state, &me, id, input.label_id, true)
        .await
        .map(Json)
}

/// Takes a label off a contact.
#[utoipa::path(delete, path = "/api/contacts/{id}/labels/{label_id}", operation_id = "unlabelContact", tag = "labels", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Contact id"), ("label_id" = i64, Path, description = "Label id")),
    responses((status = 200, body = ContactLabels), (status = 404, body = crate::error::ErrorBody)))]
pub async fn unlabel_contact(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((id, label_id)): Path<(i64, i64)>,
) -> AppResult<Json<ContactLabels>> {
    labels::label_contact(&state, &me, id, label_id, false)
        .await
        .map(Json)
}
