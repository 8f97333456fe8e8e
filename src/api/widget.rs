//! `/api/widget/*`: the website widget's visitor API (CORS open; origins checked per channel).

pub mod poll;
pub mod send;
pub mod sessions;

pub use crate::auth::extract::bearer_from_headers as bearer;

use axum::http::HeaderMap;

/// The `Origin` header, when the caller is a browser.
pub fn origin(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
