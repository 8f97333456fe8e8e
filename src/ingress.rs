//! Ingress: turning outside requests (Meta webhooks, the widget, API channels) into bus
//! commands, and which way each channel kind's messages come in.

pub mod api;
pub mod directory;
pub mod meta;
pub mod widget;

use std::collections::HashMap;

use axum::http::HeaderMap;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::model::ChannelKind;

/// How a channel kind's messages come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound {
    /// Meta's signed webhook deliveries to `/api/webhooks/<kind>`, read by `meta`.
    Meta(meta::Product),
    /// The widget's own calls (`widget`): sessions, messages, polls, the visitor stream.
    Widget,
    /// A business's app posting with the channel's key (`api`).
    Api,
}

/// How `kind`'s messages come in.
pub fn inbound(kind: ChannelKind) -> Inbound {
    match kind {
        ChannelKind::Facebook => Inbound::Meta(meta::Product::Messenger),
        ChannelKind::Instagram => Inbound::Meta(meta::Product::Instagram),
        ChannelKind::Widget => Inbound::Widget,
        ChannelKind::Api => Inbound::Api,
    }
}

/// Verifies, parses and stores one webhook delivery for `kind`; returns how many commands it
/// made. Answers only once they are durable.
pub async fn receive_webhook(
    state: &AppState,
    kind: ChannelKind,
    headers: &HeaderMap,
    body: &[u8],
) -> AppResult<usize> {
    match inbound(kind) {
        Inbound::Meta(product) => {
            let signature = headers
                .get("x-hub-signature-256")
                .and_then(|v| v.to_str().ok());
            meta::receive(state, product, signature, body).await
        }
        Inbound::Widget => Err(AppError::not_found("widget channels take no webhooks")),
        Inbound::Api => Err(AppError::not_found("api channels take no webhooks")),
    }
}

/// Answers the subscription handshake of `kind`'s webhook.
pub fn webhook_handshake(
    state: &AppState,
    kind: ChannelKind,
    params: &HashMap<String, String>,
) -> AppResult<String> {
    match inbound(kind) {
        Inbound::Meta(_) => meta::handshake(
            state,
            params.get("hub.mode").map(String::as_str),
            params.get("hub.verify_token").map(String::as_str),
            params.get("hub.challenge").map(String::as_str),
        ),
        Inbound::Widget => Err(AppError::not_found("widget channels take no webhooks")),
        Inbound::Api => Err(AppError::not_found("api channels take no webhooks")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_meta_product_routes_to_the_kind_it_comes_in_for() {
        for kind in ChannelKind::ALL {
            if let Inbound::Meta(product) = inbound(*kind) {
                assert_eq!(product.channel_kind(), *kind);
            }
        }
    }
}
