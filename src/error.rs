//! The one error type of the HTTP API and its JSON shape `{"error": {"code", "message"}}`.

use std::borrow::Cow;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The result of anything a handler calls.
pub type AppResult<T> = Result<T, AppError>;

/// An error a client is shown: a status, a stable snake_case code and a readable message.
#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    code: Cow<'static, str>,
    message: Cow<'static, str>,
    retry_after: Option<u64>,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of an error body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_json`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl AppError {
    /// An error with any status, code and message.
    pub fn custom(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::custom(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: no or bad credentials.
    pub fn unauthorized(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::custom(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403: known caller, not allowed.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::custom(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404: not found, or not the caller's to see.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::custom(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 409: conflicts with the current state.
    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::custom(StatusCode::CONFLICT, code, message)
    }

    /// 422: valid JSON, invalid fields.
    pub fn unprocessable(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::custom(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 429: slow down; retry after the given seconds.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut e = Self::custom(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests; try again later",
        );
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// The same error, telling the client when to try again (`Retry-After`).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// 503: a dependency is down or saturated; retry after the given seconds.
    pub fn unavailable(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        let mut e = Self::custom(StatusCode::SERVICE_UNAVAILABLE, code, message);
        e.retry_after = Some(1);
        e
    }

    /// 500: logged in full, shown to the client without internals.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::custom(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "something went wrong on our side",
        )
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code of this error.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The canonical error for a bare status (used for responses produced by middleware).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such resource"),
            StatusCode::METHOD_NOT_ALLOWED => {
                ("method_not_allowed", "this method is not allowed here")
            }
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
            StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request took too long"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "expected Content-Type: application/json",
            ),
            StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests; try again later"),
            StatusCode::SERVICE_UNAVAILABLE => ("service_unavailable", "try again shortly"),
            s if s.is_server_error() => ("internal_error", "something went wrong on our side"),
            _ => ("bad_request", "the request could not be understood"),
        };
        Self::custom(status, code, message)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.into_owned(),
                message: self.message.into_owned(),
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<diesel::result::Error> for AppError {
    /// Classified where it arises: a reference to nothing is a 404, a constraint a 409, a lost
    /// connection a 503 (worth retrying); anything else is the hub's own fault.
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match e {
            Error::NotFound => Self::not_found("no such resource"),
            Error::DatabaseError(Kind::UniqueViolation | Kind::ForeignKeyViolation, info) => {
                Self::conflict("conflict", info.message().to_string())
            }
            Error::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, info) => {
                tracing::warn!(error = %info.message(), "database connection lost");
                Self::unavailable(
                    "database_unavailable",
                    "the database is not reachable right now",
                )
            }
            other => Self::internal(format!("database: {other}")),
        }
    }
}

impl<E: Into<AppError>> From<crate::store::DbError<E>> for AppError {
    fn from(e: crate::store::DbError<E>) -> Self {
        match e {
            crate::store::DbError::Unavailable(_) => Self::unavailable(
                "database_unavailable",
                "the database is not reachable right now",
            ),
            crate::store::DbError::Work(e) => e.into(),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %e, "database pool could not hand out a connection");
        Self::unavailable(
            "database_unavailable",
            "the database is not reachable right now",
        )
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => Self::unprocessable("invalid_fields", e.body_text()),
            JsonRejection::JsonSyntaxError(e) => Self::bad_request("invalid_json", e.body_text()),
            JsonRejection::MissingJsonContentType(_) => {
                Self::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
            }
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::from_status(StatusCode::PAYLOAD_TOO_LARGE)
            }
            other => Self::custom(other.status(), "bad_request", other.body_text()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request("invalid_query", rejection.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request("invalid_path", rejection.body_text())
    }
}

/// Middleware: any error response that is not already JSON (a 404 or 405 from routing, a 408
/// from the timeout, a 500 from a caught panic) gets the JSON error shape, headers kept.
pub async fn ensure_json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, _) = response.into_parts();
    let mut replaced = AppError::from_status(status).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replaced.headers_mut().insert(name.clone(), value.clone());
        }
    }
    replaced
}

impl From<crate::model::StoreError> for AppError {
    fn from(e: crate::model::StoreError) -> Self {
        match e {
            crate::model::StoreError::Unavailable(detail) => {
                tracing::error!(%detail, "store unavailable");
                AppError::unavailable(
                    "store_unavailable",
                    "the message store is unavailable; retry",
                )
            }
            crate::model::StoreError::NotFound(_) => AppError::not_found("it no longer exists"),
            crate::model::StoreError::Conflict(detail) => AppError::conflict("conflict", detail),
            crate::model::StoreError::Rejected(detail) => {
                AppError::unprocessable("rejected", detail)
            }
        }
    }
}

/// A rule's refusal, as the API answers it: the one place refusals meet HTTP.
impl From<crate::model::Refusal> for AppError {
    fn from(refusal: crate::model::Refusal) -> Self {
        let message = refusal.to_string();
        if refusal.is_conflict() {
            AppError::conflict(refusal.code(), message)
        } else {
            AppError::unprocessable(refusal.code(), message)
        }
    }
}
