//! `/api/widget/*`: the website widget's visitor API (CORS open; origins checked per channel).

pub mod poll;
pub mod send;
pub mod sessions;

use axum::http::HeaderMap;

/// The `Origin` header, when the caller is a browser.
pub fn origin(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The bearer token of the request.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}
