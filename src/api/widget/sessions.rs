//! `POST /api/widget/sessions`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use crate::api::extract::{ClientInfo, Json};
use crate::app::AppState;
use crate::error::AppResult;
use crate::ingress::widget::{self, NewSession, SessionCreated};

/// Opens a visitor session on the widget channel with this `widget_key`.
#[utoipa::path(post, path = "/api/widget/sessions", operation_id = "createWidgetSession", tag = "widget", request_body = NewSession,
    responses((status = 201, body = SessionCreated), (status = 403, description = "Origin not allowed", body = crate::error::ErrorBody),
              (status = 404, description = "Unknown widget key", body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    Json(input): Json<NewSession>,
) -> AppResult<(StatusCode, Json<SessionCreated>)> {
    let session =
        widget::create_session(&state, input, super::origin(&headers), &client.ip).await?;
    Ok((StatusCode::CREATED, Json(session)))
}
