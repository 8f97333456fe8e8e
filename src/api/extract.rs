//! Extractors that reject bad input with the JSON error shape before a handler runs.

use axum::extract::FromRequest;

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
