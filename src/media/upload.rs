//! Files uploaded to a chat (by an agent, or by a widget visitor): received as a multipart
//! stream straight to disk, checked, kept, and recorded ready for a message to carry.

use axum::body::Body;
use axum::http::StatusCode;
use chrono::Utc;

use super::spool::{spool, SpoolError};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::model::MediaState;
use crate::store::media::{MediaRow, NewMedia};

/// Files one request may carry.
pub const MAX_FILES: usize = crate::model::MAX_ATTACHMENTS;

/// Who uploads.
#[derive(Debug, Clone)]
pub enum Uploader {
    /// A person of the team.
    Agent(i64),
    /// A widget visitor, limited to the types their channel allows.
    Visitor {
        /// Their session.
        session_id: String,
        /// Allowed types (`image/*`, `application/pdf`).
        allowed: Vec<String>,
    },
}

/// Where the files go.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The chat's account.
    pub account_id: i64,
    /// The chat.
    pub chat_id: i64,
}

/// An upload's form: one part per file, named `file` (any part with a filename is taken too).
#[derive(Debug, utoipa::ToSchema)]
pub struct UploadForm {
    /// The files.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub file: Vec<Vec<u8>>,
}

/// Files received, as messages show them.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Uploaded {
    /// Each file: `id` (for a reply's `attachments`), `type`, `name`, `size`, `content_type`,
    /// `url`, `thumbnail_url`.
    #[schema(value_type = Vec<Object>)]
    pub attachments: Vec<serde_json::Value>,
}

/// Receives files an agent uploads to a chat they may see.
pub async fn to_chat(
    state: &AppState,
    me: &crate::auth::extract::CurrentUser,
    chat_id: i64,
    content_type: Option<&str>,
    body: Body,
) -> AppResult<Uploaded> {
    let chat = crate::chats::find_visible(state, me, chat_id).await?;
    let target = Target {
        account_id: chat.account_id,
        chat_id: chat.id,
    };
    let uploader = Uploader::Agent(me.principal.user_id);
    let rows = receive(state, target, uploader, content_type, body).await?;
    Ok(Uploaded {
        attachments: rows.iter().map(super::attachment).collect(),
    })
}

/// Receives every file of a `multipart/form-data` body, keeps each and records it; returns
/// the rows in the order they came. A file over the limit is 413 `file_too_large` (nothing past
/// the limit is read), an empty one 422 `empty_file`, a visitor's file of a type their channel
/// does not take 415 `type_not_allowed`; a store that is down is 503.
pub async fn receive(
    state: &AppState,
    target: Target,
    uploader: Uploader,
    content_type: Option<&str>,
    body: Body,
) -> AppResult<Vec<MediaRow>> {
    let mut multipart = open_form(state.media.max_bytes, content_type, body)?;
    let mut rows = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let named_file = field.name() == Some("file");
        let Some(name) = field
            .file_name()
            .map(str::to_string)
            .or_else(|| named_file.then(String::new))
        else {
            continue;
        };
        if rows.len() == MAX_FILES {
            return Err(AppError::custom(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_many_files",
                format!("at most {MAX_FILES} files at once"),
            ));
        }
        rows.push(receive_one(state, target, &uploader, field, &name).await?);
    }
    if rows.is_empty() {
        return Err(AppError::unprocessable(
            "no_file",
            "the form carries no file (a part named `file`, or any part with a filename)",
        ));
    }
    Ok(rows)
}

/// The form's parts, each at most `limit` bytes (and the whole form at most `MAX_FILES` of
/// them); 415 when the body is not `multipart/form-data`.
fn open_form(
    limit: u64,
    content_type: Option<&str>,
    body: Body,
) -> AppResult<multer::Multipart<'static>> {
    let boundary = content_type
        .and_then(|c| multer::parse_boundary(c).ok())
        .ok_or_else(|| {
            AppError::custom(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the files as multipart/form-data",
            )
        })?;
    let whole = limit
        .saturating_mul(MAX_FILES as u64)
        .saturating_add(1 << 20);
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(whole)
            .per_field(limit.saturating_add(1)),
    );
    Ok(multer::Multipart::with_constraints(
        body.into_data_stream(),
        boundary,
        constraints,
    ))
}

/// Receives one file of the form: to disk, checked (empty, a visitor's type), kept, recorded.
async fn receive_one(
    state: &AppState,
    target: Target,
    uploader: &Uploader,
    field: multer::Field<'static>,
    name: &str,
) -> AppResult<MediaRow> {
    let media = &state.media;
    let limit = media.max_bytes;
    let file = spool(&media.spool_dir, field, limit)
        .await
        .map_err(|e| spool_error(e, limit))?;
    if file.size == 0 {
        let shown = super::sniff::safe_name(name).unwrap_or_default();
        return Err(AppError::unprocessable(
            "empty_file",
            format!("'{shown}' is empty"),
        ));
    }
    if let Uploader::Visitor { allowed, .. } = uploader {
        let sniffed = super::sniff::sniff(&file.head, &media.inline);
        if !super::sniff::type_allowed(allowed, &sniffed.content_type) {
            return Err(AppError::custom(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "type_not_allowed",
                format!(
                    "files of type {} are not taken here (allowed: {})",
                    sniffed.content_type,
                    allowed.join(", ")
                ),
            ));
        }
    }
    let kept = media.keep(target.account_id, file).await.map_err(|e| {
        tracing::warn!(error = %e, "could not keep an uploaded file");
        AppError::unavailable(
            "media_store_unavailable",
            "the media store is unavailable; try again",
        )
    })?;
    record(state, target, uploader, name, kept).await
}

async fn record(
    state: &AppState,
    target: Target,
    uploader: &Uploader,
    name: &str,
    kept: crate::store::media::Kept,
) -> AppResult<MediaRow> {
    let now = Utc::now().naive_utc();
    let (origin, uploaded_by, visitor_session) = match uploader {
        Uploader::Agent(user_id) => ("upload", Some(*user_id), None),
        Uploader::Visitor { session_id, .. } => ("visitor", None, Some(session_id.clone())),
    };
    let new = NewMedia {
        account_id: target.account_id,
        chat_id: target.chat_id,
        message_id: None,
        origin: origin.into(),
        state: MediaState::Stored,
        source_url: None,
        kind: kept.kind,
        name: super::sniff::safe_name(name),
        content_type: Some(kept.content_type),
        size: Some(kept.size),
        sha256: Some(kept.sha256),
        thumbnail: kept.thumbnail,
        next_attempt_at: None,
        uploaded_by,
        visitor_session,
        created_at: now,
        updated_at: now,
    };
    Ok(state
        .db()
        .run(move |conn| crate::store::media::insert(conn, &new))
        .await?)
}

fn spool_error(e: SpoolError, limit: u64) -> AppError {
    match e {
        SpoolError::TooLarge(_) => too_large(limit),
        SpoolError::Source(reason) if reason.contains("size limit") => too_large(limit),
        SpoolError::Source(reason) => AppError::bad_request("invalid_multipart", reason),
        SpoolError::Disk(reason) => {
            tracing::error!(%reason, "could not write an upload to the spool folder");
            AppError::unavailable(
                "spool_unavailable",
                "the upload could not be received; try again",
            )
        }
    }
}

fn too_large(limit: u64) -> AppError {
    AppError::custom(
        StatusCode::PAYLOAD_TOO_LARGE,
        "file_too_large",
        format!("a file may be at most {limit} bytes"),
    )
}

fn multipart_error(e: multer::Error) -> AppError {
    match e {
        multer::Error::FieldSizeExceeded { limit, .. }
        | multer::Error::StreamSizeExceeded { limit } => too_large(limit),
        other => AppError::bad_request("invalid_multipart", other.to_string()),
    }
}
