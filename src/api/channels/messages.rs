//! `POST /api/channels/{id}/messages`: a business's app posts a customer's message to its API
//! channel with the channel's key.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};

use crate::api::extract::Json;
use crate::app::AppState;
use crate::error::AppResult;
use crate::ingress::api::{self, Posted, PostedMessage, WaitQuery};

/// Stores a customer's message once per `message_id`: 201 the first time, 200 with the message
/// as stored on a repeat. With `wait`, the answer waits (at most that many seconds) for the
/// bot's reply and carries it in `reply` (null when none came in time).
#[utoipa::path(post, path = "/api/channels/{id}/messages", operation_id = "postApiChannelMessage", tag = "api channel", request_body = PostedMessage,
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "API channel id"), WaitQuery),
    responses((status = 201, description = "stored", body = Posted),
              (status = 200, description = "this `message_id` was stored before", body = Posted),
              (status = 400, body = crate::error::ErrorBody),
              (status = 401, description = "no key, a wrong key, or no such API channel", body = crate::error::ErrorBody),
              (status = 413, body = crate::error::ErrorBody),
              (status = 422, description = "`invalid_text`, `invalid_field`, `invalid_wait`", body = crate::error::ErrorBody)))]
pub async fn post(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    query: Result<Query<WaitQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    Json(input): Json<PostedMessage>,
) -> AppResult<(StatusCode, Json<Posted>)> {
    let Query(query) = query?;
    let bearer = crate::auth::extract::bearer_from_headers(&headers);
    let channel = api::channel(&state, id, bearer).await?;
    let posted = api::post(&state, &channel, input, query.wait).await?;
    let status = if posted.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(posted)))
}
