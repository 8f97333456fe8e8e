//! `POST /api/chats/{id}/attachments`, `GET /api/media/{id}` and its thumbnail.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;
use crate::media::serve::LinkQuery;
use crate::media::upload::Uploaded;

type QueryOf<T> = Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>;

/// Uploads files to a chat (`multipart/form-data`, one part per file, each with a filename; at
/// most 10 and `MEDIA_MAX_BYTES` each), streamed to the media store. Returns their ids, which
/// a reply's `attachments` then sends (for those who may see the chat).
#[utoipa::path(post, path = "/api/chats/{id}/attachments", operation_id = "uploadAttachments", tag = "media", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Chat id")),
    request_body(content = crate::media::upload::UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Uploaded), (status = 400, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody),
              (status = 415, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
              (status = 503, body = crate::error::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(StatusCode, Json<Uploaded>)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let uploaded = crate::media::upload::to_chat(&state, &me, id, content_type, body).await?;
    Ok((StatusCode::CREATED, Json(uploaded)))
}

/// A kept attachment's bytes, for those who may see its chat (or with a signed link:
/// `?expires=&signature=`). `Content-Type` is the type its bytes have; anything but images,
/// audio and video the browser plays comes as a download; `Range` is honoured; the ETag is the
/// content's hash.
#[utoipa::path(get, path = "/api/media/{id}", operation_id = "downloadMedia", tag = "media", security(("bearer" = []), ()),
    params(("id" = i64, Path, description = "Media id"), LinkQuery),
    responses((status = 200, description = "the bytes", content_type = "*/*", body = Vec<u8>),
              (status = 206, description = "the range asked for", content_type = "*/*", body = Vec<u8>),
              (status = 304, description = "not modified"), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 416, description = "the range is outside the file")))]
pub async fn download(
    State(state): State<AppState>,
    me: Option<CurrentUser>,
    Path(id): Path<i64>,
    link: QueryOf<LinkQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let axum::extract::Query(link) = link?;
    crate::media::serve::open(&state, me.as_ref(), id, false, &link, &headers).await
}

/// A JPEG thumbnail of a kept image (at most 320 pixels a side), as the download.
#[utoipa::path(get, path = "/api/media/{id}/thumbnail", operation_id = "mediaThumbnail", tag = "media", security(("bearer" = []), ()),
    params(("id" = i64, Path, description = "Media id"), LinkQuery),
    responses((status = 200, description = "the thumbnail", content_type = "image/jpeg", body = Vec<u8>),
              (status = 304, description = "not modified"), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn thumbnail(
    State(state): State<AppState>,
    me: Option<CurrentUser>,
    Path(id): Path<i64>,
    link: QueryOf<LinkQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let axum::extract::Query(link) = link?;
    crate::media::serve::open(&state, me.as_ref(), id, true, &link, &headers).await
}
