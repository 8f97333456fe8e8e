//! `GET /api/widget/messages`.

use axum::extract::{Query, State};
use axum::http::HeaderMap;

use crate::api::extract::{ClientInfo, Json};
use crate::app::AppState;
use crate::error::AppResult;
use crate::ingress::widget::{self, Poll, SeenByVisitor};

/// The visitor's conversation after `after` (their messages and the replies), oldest first.
#[utoipa::path(get, path = "/api/widget/messages", operation_id = "pollWidgetMessages", tag = "widget", params(Poll), security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn poll(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    query: Result<Query<Poll>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<SeenByVisitor>>> {
    let Query(query) = query?;
    let visitor = widget::visitor(&state, super::bearer(&headers), super::origin(&headers)).await?;
    widget::poll(&state, &visitor, query, &client.ip)
        .await
        .map(Json)
}
