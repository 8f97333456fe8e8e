//! `GET /api/widget/config?key=`.

use axum::extract::{Query, State};
use axum::http::HeaderMap;

use crate::api::extract::Json;
use crate::app::AppState;
use crate::error::AppResult;
use crate::ingress::widget::{self, ConfigQuery, WidgetConfig};

/// The widget's public look and pre-chat form, for the script on a customer's site.
#[utoipa::path(get, path = "/api/widget/config", operation_id = "getWidgetConfig", tag = "widget", params(ConfigQuery),
    responses((status = 200, body = WidgetConfig),
              (status = 403, description = "`origin_not_allowed`", body = crate::error::ErrorBody),
              (status = 404, description = "Unknown widget key", body = crate::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ConfigQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<WidgetConfig>> {
    let Query(query) = query?;
    widget::config(&state, &query.key, super::origin(&headers))
        .await
        .map(Json)
}
