//! `POST /api/webhooks/facebook` and `/instagram`: signed deliveries, acknowledged once stored.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;

use crate::app::AppState;
use crate::error::AppResult;
use crate::ingress;
use crate::model::ChannelKind;

/// A Messenger delivery.
#[utoipa::path(post, path = "/api/webhooks/facebook", operation_id = "receiveFacebookWebhook", tag = "webhooks",
    request_body(content = String, description = "Meta's delivery, signed with X-Hub-Signature-256", content_type = "application/json"),
    responses((status = 200, description = "Stored (or a known duplicate)", body = String),
              (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
              (status = 413, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn facebook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<&'static str> {
    ingress::receive_webhook(&state, ChannelKind::Facebook, &headers, &body).await?;
    Ok("EVENT_RECEIVED")
}

/// An Instagram Direct delivery.
#[utoipa::path(post, path = "/api/webhooks/instagram", operation_id = "receiveInstagramWebhook", tag = "webhooks",
    request_body(content = String, description = "Meta's delivery, signed with X-Hub-Signature-256", content_type = "application/json"),
    responses((status = 200, description = "Stored (or a known duplicate)", body = String),
              (status = 401, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn instagram(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<&'static str> {
    ingress::receive_webhook(&state, ChannelKind::Instagram, &headers, &body).await?;
    Ok("EVENT_RECEIVED")
}
