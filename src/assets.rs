//! Static files built into the binary (the console, the widget, the API reference): each is
//! compressed once, named by a content hash for its ETag, and answered 304 when unchanged.

use std::collections::HashMap;
use std::io::Write;
use std::sync::OnceLock;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One file as it is served.
struct Asset {
    content_type: &'static str,
    raw: &'static [u8],
    gzip: Vec<u8>,
    etag: HeaderValue,
}

macro_rules! files {
    ($($path:literal => $file:literal),* $(,)?) => {
        &[$(($path, include_bytes!($file) as &[u8])),*]
    };
}

/// Every file, by the path it is served at.
const FILES: &[(&str, &[u8])] = files! {
    "/assets/console.css" => "console/console.css",
    "/assets/app.js" => "console/app.js",
    "/assets/api.js" => "console/api.js",
    "/assets/dom.js" => "console/dom.js",
    "/assets/live.js" => "console/live.js",
    "/assets/state.js" => "console/state.js",
    "/assets/alerts.js" => "console/alerts.js",
    "/assets/sound.js" => "console/sound.js",
    "/assets/media.js" => "console/media.js",
    "/assets/views/auth.js" => "console/views/auth.js",
    "/assets/views/inbox.js" => "console/views/inbox.js",
    "/assets/views/chat.js" => "console/views/chat.js",
    "/assets/views/team.js" => "console/views/team.js",
    "/assets/views/admin.js" => "console/views/admin.js",
    "/assets/views/api_keys.js" => "console/views/api_keys.js",
    "/assets/views/attach.js" => "console/views/attach.js",
    "/assets/views/canned.js" => "console/views/canned.js",
    "/assets/views/leads.js" => "console/views/leads.js",
    "/assets/views/ai.js" => "console/views/ai.js",
    "/assets/icon.svg" => "console/icon.svg",
    "/assets/demo.css" => "widget/demo.css",
    "/widget.js" => "widget/widget.js",
    "/widget.css" => "widget/widget.css",
    "/docs/docs.js" => "api/docs/docs.js",
    "/docs/docs.css" => "api/docs/docs.css",
    "/docs/swagger-ui-bundle.js" => "api/docs/swagger-ui/swagger-ui-bundle.js",
    "/docs/swagger-ui.css" => "api/docs/swagger-ui/swagger-ui.css",
};

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("html") => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn table() -> &'static HashMap<&'static str, Asset> {
    static TABLE: OnceLock<HashMap<&'static str, Asset>> = OnceLock::new();
    TABLE.get_or_init(|| {
        FILES
            .iter()
            .map(|(path, raw)| {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                let gzip = encoder
                    .write_all(raw)
                    .and_then(|()| encoder.finish())
                    .unwrap_or_default();
                let hash = crate::tokens::hex(&Sha256::digest(raw)[..12]);
                let etag = HeaderValue::from_str(&format!("\"{hash}\""))
                    .unwrap_or(HeaderValue::from_static("\"asset\""));
                let asset = Asset {
                    content_type: content_type(path),
                    raw,
                    gzip,
                    etag,
                };
                (*path, asset)
            })
            .collect()
    })
}

/// The bytes a client would download for `path` with gzip (for page-weight figures).
pub fn compressed_size(path: &str) -> Option<usize> {
    table().get(path).map(|a| a.gzip.len())
}

/// The handler of every built-in file: the request's path names it.
pub async fn handler(uri: axum::extract::OriginalUri, headers: HeaderMap) -> Response {
    serve(uri.path(), &headers)
}

/// Whether an `Accept-Encoding` value accepts gzip: named (or `*`) with a weight above 0;
/// `gzip;q=0` refuses it even when `*` is accepted.
fn accepts_gzip(accept_encoding: &str) -> bool {
    let weight = |coding: &str| {
        accept_encoding.split(',').find_map(|entry| {
            let mut parts = entry.split(';');
            let name = parts.next()?.trim();
            if !name.eq_ignore_ascii_case(coding) {
                return None;
            }
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            Some(q)
        })
    };
    match weight("gzip") {
        Some(q) => q > 0.0,
        None => weight("*").is_some_and(|q| q > 0.0),
    }
}

/// Answers a request for a built-in file: gzip when accepted, 304 when the client has it.
pub fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(asset) = table().get(path) else {
        return crate::error::AppError::not_found("no such file").into_response();
    };
    // Revalidated on every load (cheap: a 304), so a new binary's files are seen at once.
    let cache = HeaderValue::from_static("no-cache");
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().as_bytes() == asset.etag.as_bytes())
        });
    if unchanged {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, asset.etag.clone()),
                (header::CACHE_CONTROL, cache),
            ],
        )
            .into_response();
    }
    let gzip_ok = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(accepts_gzip);
    let mut response = if gzip_ok && !asset.gzip.is_empty() {
        ([(header::CONTENT_ENCODING, "gzip")], asset.gzip.clone()).into_response()
    } else {
        asset.raw.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(header::ETAG, asset.etag.clone());
    headers.insert(header::CACHE_CONTROL, cache);
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}
