//! `GET /docs`: the interactive API reference (Swagger UI, built into the binary from its
//! pinned package in `docs/swagger-ui/`, with its licence), on the hub's own OpenAPI document.

use axum::http::header;
use axum::response::IntoResponse;

const PAGE: &str = include_str!("docs/index.html");

/// What the page may load: its own scripts and styles, Swagger UI's inline images, and calls
/// to this hub. Nothing from elsewhere, nothing inline, no eval.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
                   form-action 'none'";

/// The reference page.
pub async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
        ],
        PAGE,
    )
}
