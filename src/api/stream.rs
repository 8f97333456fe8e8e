//! `GET /ws` and `GET /ws/widget`: the agents' and the visitors' live streams.

use std::collections::HashMap;

use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::app::AppState;
use crate::auth::extract::authenticate;
use crate::error::{AppError, AppResult};

/// Clients send only small frames (typing, ping): a 256-byte read buffer (zeroed, so resident
/// from the first read; a larger frame grows it) keeps an idle connection cheap. Frames out gather in the write buffer (grown only when events come) and go to the
/// socket when 16 KiB are waiting or the writer flushes a batch.
fn lean(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    upgrade
        .read_buffer_size(256)
        .write_buffer_size(16 * 1024)
        .max_message_size(64 * 1024)
}

/// Upgrades to a WebSocket after checking the token (`?token=` or
/// `Sec-WebSocket-Protocol: bearer, <jwt>`); `since=<seq>` resumes after that event.
pub async fn connect(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> AppResult<Response> {
    let from_protocol = token_from_protocol(&headers);
    let uses_protocol = from_protocol.is_some();
    let token = params
        .get("token")
        .cloned()
        .or(from_protocol)
        .ok_or_else(|| AppError::unauthorized("unauthorized", "a token is required"))?;
    let since =
        match params.get("since") {
            Some(s) => Some(s.parse::<i64>().map_err(|_| {
                AppError::bad_request("invalid_since", "since must be a seq number")
            })?),
            None => None,
        };
    let me = authenticate(&state, &token).await?;
    if !me.principal.may_stream() {
        return Err(AppError::custom(
            axum::http::StatusCode::FORBIDDEN,
            "insufficient_scope",
            "this API key lacks the ws:connect scope",
        ));
    }
    let upgrade = if uses_protocol {
        upgrade.protocols(["bearer"])
    } else {
        upgrade
    };
    Ok(lean(upgrade).on_upgrade(move |socket| crate::ws::serve(socket, state, me, since)))
}

/// The token of `Sec-WebSocket-Protocol: bearer, <token>`: a browser's way to send one
/// without putting it in the address, where proxies' access logs keep it.
fn token_from_protocol(headers: &HeaderMap) -> Option<String> {
    headers
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let mut parts = v.split(',').map(str::trim);
            (parts.next() == Some("bearer"))
                .then(|| parts.next())
                .flatten()
        })
        .map(str::to_string)
}

/// Upgrades a visitor to their live stream after checking the widget token
/// (`Sec-WebSocket-Protocol: bearer, <token>`, `Authorization: Bearer`, or `?token=` for
/// older embeds) and the page's origin.
pub async fn widget(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> AppResult<Response> {
    let from_protocol = token_from_protocol(&headers);
    let uses_protocol = from_protocol.is_some();
    let token = from_protocol
        .or_else(|| params.get("token").cloned())
        .or_else(|| crate::auth::extract::bearer_from_headers(&headers).map(str::to_string));
    let visitor = crate::ingress::widget::visitor(
        &state,
        token.as_deref(),
        crate::api::widget::origin(&headers),
    )
    .await?;
    let upgrade = if uses_protocol {
        upgrade.protocols(["bearer"])
    } else {
        upgrade
    };
    Ok(lean(upgrade).on_upgrade(move |socket| crate::ws::widget::serve(socket, state, visitor)))
}
