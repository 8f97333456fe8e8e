//! `GET /api/search`.

use axum::extract::{Query, State};

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;
use crate::search::{self, SearchQuery, SearchResults};

/// Messages and contacts of the account matching every word of `q`, within what the caller may
/// see.
#[utoipa::path(get, path = "/api/search", operation_id = "search", tag = "search", security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, body = SearchResults), (status = 400, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    me: CurrentUser,
    query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<SearchResults>> {
    let Query(query) = query?;
    search::search(&state, &me, query).await.map(Json)
}
