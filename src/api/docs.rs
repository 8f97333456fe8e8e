//! `GET /docs`: the interactive API reference (Swagger UI, built into the binary from its
//! pinned package in `docs/swagger-ui/`, with its licence), on the hub's own OpenAPI document.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const PAGE: &str = include_str!("docs/index.html");
const SCRIPT: &str = include_str!("docs/docs.js");
const STYLE: &str = include_str!("docs/docs.css");
const BUNDLE: &[u8] = include_bytes!("docs/swagger-ui/swagger-ui-bundle.js");
const BUNDLE_GZ: &[u8] = include_bytes!("docs/swagger-ui/swagger-ui-bundle.js.gz");
const UI_STYLE: &[u8] = include_bytes!("docs/swagger-ui/swagger-ui.css");
const UI_STYLE_GZ: &[u8] = include_bytes!("docs/swagger-ui/swagger-ui.css.gz");
const VERSION: &str = include_str!("docs/swagger-ui/VERSION");

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

/// The script that starts Swagger UI on `/api/openapi.json`.
pub async fn script(headers: HeaderMap) -> Response {
    asset(
        &headers,
        "text/javascript; charset=utf-8",
        SCRIPT.as_bytes(),
        None,
    )
}

/// The page's own styles.
pub async fn style(headers: HeaderMap) -> Response {
    asset(&headers, "text/css; charset=utf-8", STYLE.as_bytes(), None)
}

/// Swagger UI's script.
pub async fn bundle(headers: HeaderMap) -> Response {
    asset(
        &headers,
        "text/javascript; charset=utf-8",
        BUNDLE,
        Some(BUNDLE_GZ),
    )
}

/// Swagger UI's styles.
pub async fn ui_style(headers: HeaderMap) -> Response {
    asset(
        &headers,
        "text/css; charset=utf-8",
        UI_STYLE,
        Some(UI_STYLE_GZ),
    )
}

/// A static asset with a validator tied to the build, gzip-compressed when the client takes it.
fn asset(
    headers: &HeaderMap,
    content_type: &'static str,
    raw: &'static [u8],
    gz: Option<&'static [u8]>,
) -> Response {
    let etag = format!(
        "\"{}-{}-{}\"",
        env!("CARGO_PKG_VERSION"),
        VERSION.trim(),
        raw.len()
    );
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"docs\""));
    let cache = HeaderValue::from_static("public, max-age=3600, must-revalidate");
    if unchanged {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    let gzip_ok = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut response = match gz.filter(|_| gzip_ok) {
        Some(body) => ([(header::CONTENT_ENCODING, "gzip")], body).into_response(),
        None => raw.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::ETAG, etag);
    headers.insert(header::CACHE_CONTROL, cache);
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}
