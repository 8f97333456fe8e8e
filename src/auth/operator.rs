//! The `Operator` extractor: the installation's operator, holding `PLATFORM_TOKEN`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::app::AppState;
use crate::error::AppError;

/// A caller who presented the platform token: may manage every account, and nothing else (a
/// person's JWT is never an operator's credential, however high their role).
#[derive(Debug, Clone, Copy)]
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Some(token) = &state.config.platform_token else {
            return Err(AppError::not_found(
                "no such route: the platform API is off without PLATFORM_TOKEN",
            ));
        };
        let given = super::extract::bearer_token(parts).unwrap_or_default();
        if crate::tokens::constant_time_eq(given.as_bytes(), token.expose().as_bytes()) {
            Ok(Operator)
        } else {
            Err(AppError::unauthorized(
                "invalid_platform_token",
                "send Authorization: Bearer <PLATFORM_TOKEN>",
            ))
        }
    }
}
