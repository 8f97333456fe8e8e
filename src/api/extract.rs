//! Extractors that reject bad input with the JSON error shape before a handler runs.

use axum::extract::FromRequest;

use crate::app::AppState;
use crate::error::{AppError, AppResult};

/// A JSON body: malformed JSON is a 400, wrong fields a 422, a wrong content type a 415,
/// a body over the limit a 413, each as a JSON error. Text with a NUL character, which no
/// database column can keep, is a 422 `invalid_text` before anything is stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let axum::Json(value) =
            axum::Json::<serde_json::Value>::from_request(request, state).await?;
        fields(value).map(Json)
    }
}

/// A body's fields from its JSON: 422 `invalid_text` for a NUL in any string or key, and
/// numbers written as whole floats (`7.0`) read as the integers they are, as JSON Schema's
/// `integer` allows; 422 `invalid_fields` for the rest.
pub fn fields<T: serde::de::DeserializeOwned>(mut value: serde_json::Value) -> AppResult<T> {
    if has_nul(&value) {
        return Err(AppError::unprocessable(
            "invalid_text",
            "text must not contain NUL (\\u0000) characters",
        ));
    }
    if value.is_array() {
        // A struct would also read its fields from an array, by place: no body here is one.
        return Err(AppError::unprocessable(
            "invalid_fields",
            "the body must be a JSON object",
        ));
    }
    whole_numbers(&mut value);
    T::deserialize(value).map_err(|e| AppError::unprocessable("invalid_fields", e.to_string()))
}

/// A body that may be empty (then its defaults), else JSON read as `fields` reads it.
pub fn optional_fields<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> AppResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let value = serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request("invalid_json", e.to_string()))?;
    fields(value)
}

/// Whether any string (or key) in a JSON value holds a NUL character.
fn has_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Rewrites floats with nothing after the point (within `i64`) as integers.
fn whole_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let whole = n
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                .map(|f| f as i64);
            if let Some(whole) = whole {
                *value = Value::from(whole);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// Refuses, for every route at once, a path or query string holding an encoded NUL (`%00`):
/// no database column can keep one, and PostgreSQL fails the query instead of finding nothing.
/// A 400 `invalid_text` before any handler runs.
pub async fn refuse_nul_in_uri(
    request: axum::extract::Request,
) -> Result<axum::extract::Request, AppError> {
    let uri = request.uri();
    let encoded_nul = |text: &str| text.contains("%00");
    if encoded_nul(uri.path()) || uri.query().is_some_and(encoded_nul) {
        return Err(AppError::bad_request(
            "invalid_text",
            "the address must not contain NUL (%00) characters",
        ));
    }
    Ok(request)
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

pub use crate::net::ClientInfo;

/// Reads the client's address (through trusted proxies) and `User-Agent` from the request.
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
