//! `POST /api/widget/messages`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use crate::api::extract::{ClientInfo, Json};
use crate::app::AppState;
use crate::error::AppResult;
use crate::ingress::widget::{self, VisitorMessage};

/// A visitor's message, acknowledged once stored; `attachments` sends files this session
/// uploaded (422 `invalid_attachment` for any other id).
#[utoipa::path(post, path = "/api/widget/messages", operation_id = "sendWidgetMessage", tag = "widget", request_body = VisitorMessage,
    security(("bearer" = [])),
    responses((status = 201, body = Object), (status = 401, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    Json(input): Json<VisitorMessage>,
) -> AppResult<(StatusCode, Json<serde_json::Value>)> {
    let visitor = widget::visitor(&state, super::bearer(&headers), super::origin(&headers)).await?;
    let message = widget::send(&state, &visitor, input, &client.ip).await?;
    Ok((StatusCode::CREATED, Json(message)))
}
