//! Extractors that reject bad input with the JSON error shape before a handler runs.

use axum::extract::FromRequest;

use crate::app::AppState;
use crate::error::AppError;

/// A JSON body: malformed JSON is a 400, wrong fields a 422, a wrong content type a 415,
/// a body over the limit a 413, each as a JSON error.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// Who is calling from where: the client's address and the `User-Agent`.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// The client's IP address: the TCP peer, or the address a trusted proxy forwarded for
    /// (`TRUSTED_PROXIES`); `unknown` when the server was not told.
    pub ip: String,
    /// The `User-Agent` header, cut to 256 characters.
    pub user_agent: Option<String>,
}

impl axum::extract::FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or_else(
                || "unknown".to_string(),
                |c| {
                    crate::net::client_ip(c.0, &parts.headers, &state.config.trusted_proxies)
                        .to_string()
                },
            );
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(256).collect());
        Ok(Self { ip, user_agent })
    }
}
