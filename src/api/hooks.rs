//! `/api/outgoing-webhooks`: admins register webhook URLs, read dead letters and redeliver them.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;
use crate::hooks::{self, DeliveryQuery, DeliveryView, HookView, NewHook};

/// Registers a webhook; the answer carries its signing secret, shown this once.
#[utoipa::path(post, path = "/api/outgoing-webhooks", operation_id = "createOutgoingWebhook", tag = "webhooks", security(("bearer" = [])), request_body = NewHook,
    responses((status = 201, body = HookView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(input): Json<NewHook>,
) -> AppResult<(StatusCode, Json<HookView>)> {
    let hook = hooks::register(&state, &me, input).await?;
    Ok((StatusCode::CREATED, Json(hook)))
}

/// The account's webhooks.
#[utoipa::path(get, path = "/api/outgoing-webhooks", operation_id = "listOutgoingWebhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Vec<HookView>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
) -> AppResult<Json<Vec<HookView>>> {
    hooks::list(&state, &me).await.map(Json)
}

/// Removes a webhook and its deliveries.
#[utoipa::path(delete, path = "/api/outgoing-webhooks/{id}", operation_id = "deleteOutgoingWebhook", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    hooks::remove(&state, &me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deliveries by status; by default the dead letters.
#[utoipa::path(get, path = "/api/outgoing-webhooks/deliveries", operation_id = "listWebhookDeliveries", tag = "webhooks", security(("bearer" = [])),
    params(DeliveryQuery),
    responses((status = 200, body = Vec<DeliveryView>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    me: CurrentUser,
    query: Result<Query<DeliveryQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<DeliveryView>>> {
    let Query(query) = query?;
    hooks::deliveries(&state, &me, query).await.map(Json)
}

/// Sends a dead letter again.
#[utoipa::path(post, path = "/api/outgoing-webhooks/deliveries/{id}/redeliver", operation_id = "redeliverWebhookDelivery", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Delivery id")),
    responses((status = 202), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn redeliver(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    hooks::redeliver(&state, &me, id).await?;
    Ok(StatusCode::ACCEPTED)
}
