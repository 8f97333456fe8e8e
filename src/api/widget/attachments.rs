//! `POST /api/widget/attachments`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};

use crate::api::extract::Json;
use crate::app::AppState;
use crate::error::AppResult;
use crate::ingress::widget::{self, uploads};
use crate::media::upload::Uploaded;

/// Files a visitor attaches (`multipart/form-data`, one part per file, each with a filename):
/// kept in their chat (opened now if they have not written yet), of the types the channel's
/// `upload_types` allow. Returns the ids a message's `attachments` then sends, with signed links.
#[utoipa::path(post, path = "/api/widget/attachments", operation_id = "uploadWidgetAttachments", tag = "widget",
    security(("bearer" = [])),
    request_body(content = crate::media::upload::UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Uploaded), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody),
              (status = 403, description = "`uploads_off`: the channel takes no files", body = crate::error::ErrorBody),
              (status = 413, body = crate::error::ErrorBody),
              (status = 415, description = "`type_not_allowed`", body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody),
              (status = 503, body = crate::error::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(StatusCode, Json<Uploaded>)> {
    let visitor = widget::visitor(&state, super::bearer(&headers), super::origin(&headers)).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let uploaded = uploads::upload(&state, &visitor, content_type, body).await?;
    Ok((StatusCode::CREATED, Json(uploaded)))
}
