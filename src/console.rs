//! The agent console served by the hub: one page (at `/`, and at the mailed links
//! `/reset-password` and `/accept-invite`) and its static files under `/assets/`.

use axum::http::header;
use axum::response::IntoResponse;

const PAGE: &str = include_str!("console/index.html");

/// What the console may load: its own scripts and styles, images from its own hub and from
/// the channels' media hosts (older attachments), kept media it fetched itself (`blob:`), and
/// calls and its WebSocket to this hub.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                       img-src 'self' data: blob: https:; media-src blob:; connect-src 'self'; \
                       font-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
                       form-action 'self'";

/// The console's page; the script decides what to show from the path and the hash.
pub async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE,
    )
}
