//! Logging: text or JSON lines, one span per request carrying its request id.

use axum::http::Request;
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Starts the global logger on stdout, or on stderr for commands whose stdout is data; `RUST_LOG`
/// adjusts levels (default `info`).
pub fn init(format: LogFormat, to_stderr: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second init (tests) keeps the first logger.
    let _ = match (format, to_stderr) {
        (LogFormat::Json, false) => builder.json().flatten_event(true).try_init(),
        (LogFormat::Json, true) => builder
            .json()
            .flatten_event(true)
            .with_writer(std::io::stderr)
            .try_init(),
        (LogFormat::Text, false) => builder.try_init(),
        (LogFormat::Text, true) => builder.with_writer(std::io::stderr).try_init(),
    };
}

/// Gives every request a random id, echoed as `x-request-id`.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let id = crate::tokens::random_hex(8);
        axum::http::HeaderValue::from_str(&id)
            .ok()
            .map(RequestId::new)
    }
}

/// Longest request id taken from a client.
const MAX_CLIENT_REQUEST_ID: usize = 64;

/// Keeps a client's `x-request-id` only when it is 1 to 64 characters of letters, digits,
/// `-`, `_`, `.` or `:`; otherwise removes it so the hub makes its own. Whatever stays is
/// written into logs, so it must not be able to forge or break a line.
pub async fn drop_unsafe_request_id(
    mut request: Request<axum::body::Body>,
) -> Request<axum::body::Body> {
    let safe = |value: &[u8]| {
        (1..=MAX_CLIENT_REQUEST_ID).contains(&value.len())
            && value
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    };
    let headers = request.headers_mut();
    let values: Vec<_> = headers.get_all("x-request-id").iter().collect();
    if values.len() != 1 || !safe(values[0].as_bytes()) {
        headers.remove("x-request-id");
    }
    request
}

/// The span of one request: id, method and path (never the query, which may carry tokens).
pub fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}
