//! `GET /api/webhooks/facebook` and `/instagram`: the subscription handshake.

use std::collections::HashMap;

use axum::extract::{Query, State};

use crate::app::AppState;
use crate::error::AppResult;
use crate::ingress;
use crate::model::ChannelKind;

/// Echoes `hub.challenge` as plain text when `hub.verify_token` matches META_VERIFY_TOKEN.
#[utoipa::path(get, path = "/api/webhooks/facebook", operation_id = "verifyFacebookWebhook", tag = "webhooks",
    params(("hub.mode" = String, Query), ("hub.verify_token" = String, Query), ("hub.challenge" = String, Query)),
    responses((status = 200, description = "The challenge, as text/plain", body = String),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> AppResult<String> {
    ingress::webhook_handshake(&state, ChannelKind::Facebook, &params)
}

/// The same handshake for Instagram's webhook subscription.
#[utoipa::path(get, path = "/api/webhooks/instagram", operation_id = "verifyInstagramWebhook", tag = "webhooks",
    params(("hub.mode" = String, Query), ("hub.verify_token" = String, Query), ("hub.challenge" = String, Query)),
    responses((status = 200, description = "The challenge, as text/plain", body = String),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn verify_instagram(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> AppResult<String> {
    ingress::webhook_handshake(&state, ChannelKind::Instagram, &params)
}
