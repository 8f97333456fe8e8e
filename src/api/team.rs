//! `GET /api/team`: who is working now, and the queue (supervisors, admins).

use axum::extract::State;

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::AppResult;
use crate::users::team::{self, Team};

/// Every active user with presence and open chats, and the queue's size and oldest wait.
#[utoipa::path(get, path = "/api/team", operation_id = "getTeam", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Team), (status = 403, body = crate::error::ErrorBody)))]
pub async fn show(State(state): State<AppState>, me: CurrentUser) -> AppResult<Json<Team>> {
    team::load(&state, &me).await.map(Json)
}
