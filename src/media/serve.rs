//! Serving kept media to those who may see its chat (or who hold a signed link): its sniffed
//! type, inline only when safe, ranges for players, and caching for objects that never change.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::error::{AppError, AppResult};
use crate::model::{MediaKind, MediaState};
use crate::store::media::MediaRow;

/// A signed link's query: `?expires=<unix seconds>&signature=<hex>`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// When the link stops working (Unix seconds).
    pub expires: Option<i64>,
    /// The link's signature.
    pub signature: Option<String>,
}

/// Opens a kept object (or its thumbnail): by signed link, or for a caller who may see its
/// chat; anything else is 404, as for a chat one may not see.
pub async fn open(
    state: &AppState,
    me: Option<&CurrentUser>,
    id: i64,
    thumbnail: bool,
    link: &LinkQuery,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let row = match (&link.expires, &link.signature, me) {
        (Some(expires), Some(signature), _) => {
            if !state.media.links.verify(id, thumbnail, *expires, signature) {
                return Err(AppError::custom(
                    StatusCode::FORBIDDEN,
                    "invalid_link",
                    "the link is wrong or has expired",
                ));
            }
            state
                .db()
                .run(move |conn| crate::store::media::find_any(conn, id))
                .await?
        }
        (_, _, Some(me)) => visible(state, me, id).await?,
        _ => {
            return Err(AppError::unauthorized(
                "unauthorized",
                "a valid bearer token or a signed link is required",
            ))
        }
    };
    let row = row.ok_or_else(|| AppError::not_found("no such media"))?;
    respond(state, &row, thumbnail, headers).await
}

/// The account's media row, when the caller may see its chat.
async fn visible(state: &AppState, me: &CurrentUser, id: i64) -> AppResult<Option<MediaRow>> {
    let account_id = me.principal.account_id;
    let found = state
        .db()
        .run(move |conn| {
            let Some(row) = crate::store::media::find(conn, account_id, id)? else {
                return Ok(None);
            };
            let chat = crate::store::chats::find(conn, account_id, row.chat_id)?;
            Ok::<_, diesel::result::Error>(Some((row, chat)))
        })
        .await?;
    Ok(found
        .filter(|(_, chat)| me.principal.may(Action::SeeChat(chat)))
        .map(|(row, _)| row))
}

async fn respond(
    state: &AppState,
    row: &MediaRow,
    thumbnail: bool,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let (Some(sha256), MediaState::Stored) = (row.sha256.as_deref(), row.state) else {
        return Err(AppError::not_found(match row.state {
            MediaState::Pending => "this attachment is not kept yet",
            _ => "this attachment could not be kept",
        }));
    };
    if thumbnail && !row.thumbnail {
        return Err(AppError::not_found("this attachment has no thumbnail"));
    }
    let etag = format!("\"{sha256}{}\"", if thumbnail { "-thumb" } else { "" });
    if fresh(headers, &etag) {
        return build(StatusCode::NOT_MODIFIED, &etag, Body::empty(), |_| {});
    }
    let key = super::store::key(row.account_id, sha256, thumbnail);
    let full_size = row
        .size
        .filter(|_| !thumbnail)
        .and_then(|s| u64::try_from(s).ok());
    let range = match requested_range(headers, full_size) {
        Ok(range) => range,
        Err(size) => {
            return build(
                StatusCode::RANGE_NOT_SATISFIABLE,
                &etag,
                Body::empty(),
                |h| {
                    insert(h, header::CONTENT_RANGE, &format!("bytes */{size}"));
                },
            )
        }
    };
    let ranged = range.is_some();
    let object = state
        .media
        .store
        .get(&key, range)
        .await
        .map_err(|e| store_error(row.id, e))?;
    let (content_type, disposition, name) = presentation(row, thumbnail);
    let status = if ranged {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let length = object.range.end.saturating_sub(object.range.start);
    let content_range = format!(
        "bytes {}-{}/{}",
        object.range.start,
        object.range.end.saturating_sub(1),
        object.size
    );
    build(status, &etag, Body::from_stream(object.stream), |h| {
        insert(h, header::CONTENT_TYPE, &content_type);
        insert(h, header::CONTENT_LENGTH, &length.to_string());
        insert(
            h,
            header::CONTENT_DISPOSITION,
            &disposition_value(disposition, &name),
        );
        insert(h, header::ACCEPT_RANGES, "bytes");
        if ranged {
            insert(h, header::CONTENT_RANGE, &content_range);
        }
    })
}

/// Whether the client holds this very object already (`If-None-Match`).
fn fresh(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// A store that cannot read a kept object: missing bytes are 404, an outage 503.
fn store_error(media_id: i64, e: super::store::StoreError) -> AppError {
    tracing::warn!(media_id, error = %e, "could not read kept media");
    match e {
        super::store::StoreError::NotFound => AppError::not_found("the kept bytes are missing"),
        other => AppError::unavailable("media_store_unavailable", other.to_string()),
    }
}

/// The range a `Range` header asks of an object of `size` bytes (`None`: all of it); the
/// size when the range cannot be served (416).
fn requested_range(
    headers: &HeaderMap,
    size: Option<u64>,
) -> Result<Option<std::ops::Range<u64>>, u64> {
    match (headers.get(header::RANGE), size) {
        (Some(value), Some(size)) => parse_range(value.to_str().unwrap_or_default(), size)
            .map(Some)
            .ok_or(size),
        _ => Ok(None),
    }
}

/// How a kept object is presented: its type, `inline` (images, audio and video the browser
/// plays) or `attachment`, and its file name.
fn presentation(row: &MediaRow, thumbnail: bool) -> (String, &'static str, String) {
    let name = row
        .name
        .clone()
        .unwrap_or_else(|| format!("attachment-{}", row.id));
    if thumbnail {
        return ("image/jpeg".to_string(), "inline", name);
    }
    let content_type = row
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".into());
    let disposition = if row.kind == MediaKind::File {
        "attachment"
    } else {
        "inline"
    };
    (content_type, disposition, name)
}

fn build(
    status: StatusCode,
    etag: &str,
    body: Body,
    more: impl FnOnce(&mut HeaderMap),
) -> AppResult<Response> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    insert(headers, header::ETAG, etag);
    insert(
        headers,
        header::CACHE_CONTROL,
        "private, max-age=31536000, immutable",
    );
    insert(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; sandbox",
    );
    insert(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    more(headers);
    Ok(response)
}

fn insert(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// `inline` or `attachment` with the name, ASCII-safe and RFC 5987-encoded.
fn disposition_value(kind: &str, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '\\' && c != '"' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// One range of `Range: bytes=...` within an object of `size` bytes; `None` when it cannot be
/// satisfied or names several ranges.
fn parse_range(value: &str, size: u64) -> Option<std::ops::Range<u64>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            (size.saturating_sub(n), size - 1)
        }
        (start, "") => (start.parse().ok()?, size - 1),
        (start, end) => (start.parse().ok()?, end.parse::<u64>().ok()?.min(size - 1)),
    };
    (start <= end && start < size).then_some(start..end + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_players_send_them() {
        assert_eq!(parse_range("bytes=0-", 10), Some(0..10));
        assert_eq!(parse_range("bytes=2-4", 10), Some(2..5));
        assert_eq!(parse_range("bytes=-3", 10), Some(7..10));
        assert_eq!(parse_range("bytes=5-100", 10), Some(5..10));
        assert_eq!(parse_range("bytes=10-", 10), None);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), None);
        assert_eq!(parse_range("items=0-1", 10), None);
    }

    #[test]
    fn names_in_headers_cannot_break_out() {
        let value = disposition_value("attachment", "a\"b;ü.pdf");
        assert!(value.starts_with("attachment; filename=\"a_b;_.pdf\""));
        assert!(value.ends_with("filename*=UTF-8''a%22b%3B%C3%BC.pdf"));
    }
}
