//! `/api/widget/*`: the website widget's visitor API (CORS open; origins checked per channel).

pub mod attachments;
pub mod config;
pub mod poll;
pub mod send;
pub mod sessions;

pub use crate::auth::extract::bearer_from_headers as bearer;

use axum::http::HeaderMap;

/// The `Origin` header, when the caller is a browser on another site. A page of the hub
/// itself (the widget demo) is the hub's own origin, which every channel trusts.
pub fn origin(headers: &HeaderMap) -> Option<String> {
    let origin = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())?;
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok());
    let authority = origin.split_once("://").map(|(_, rest)| rest);
    if host.is_some() && authority == host {
        return None;
    }
    Some(origin.to_string())
}
