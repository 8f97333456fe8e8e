//! The embeddable website widget served by the hub: `/widget.js`, its styles, and a demo page
//! (`/widget/demo?key=`) where an operator tries a channel at once.

use axum::extract::{OriginalUri, Query};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// `/widget/demo` query.
#[derive(Debug, Deserialize)]
pub struct DemoQuery {
    /// The channel's widget key.
    pub key: Option<String>,
}

/// The script and its styles; any site may load them (they carry nothing secret).
pub async fn asset(uri: OriginalUri, headers: HeaderMap) -> Response {
    let mut response = crate::assets::handler(uri, headers).await;
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response.headers_mut().insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    response
}

/// A plain page with the widget on it, for the channel whose key is given.
pub async fn demo(
    query: Result<Query<DemoQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let key = query.ok().and_then(|Query(q)| q.key).unwrap_or_default();
    let valid = !key.is_empty()
        && key.len() <= 100
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let body = if valid {
        format!(
            "<h1>Widget demo</h1>\n<p>This page shows the widget of the channel <code>{key}</code> \
             as a visitor meets it: open the chat with the button at the bottom.</p>\n\
             <p>To put it on your site, add this line before <code>&lt;/body&gt;</code>:</p>\n\
             <pre>&lt;script src=\"/widget.js\" data-widget-key=\"{key}\" async&gt;&lt;/script&gt;</pre>\n\
             <script src=\"/widget.js\" data-widget-key=\"{key}\" async></script>"
        )
    } else {
        "<h1>Widget demo</h1>\n<p>Add <code>?key=</code> with a widget channel's key to the address \
         (Administration, Channels).</p>"
            .to_string()
    };
    let page = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Switchboard widget demo</title>\n<link rel=\"stylesheet\" href=\"/assets/demo.css\">\n\
         </head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
        ],
        page,
    )
        .into_response()
}
