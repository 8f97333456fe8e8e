//! `GET /api/auth/me`.

use axum::extract::State;
use serde::Serialize;

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::users::UserView;

/// The caller's own user, with the hub's limits a client checks before it sends.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The user.
    #[serde(flatten)]
    pub user: UserView,
    /// The largest file an upload may carry, in bytes (`MEDIA_MAX_BYTES`).
    pub media_max_bytes: u64,
}

/// The caller's own user.
#[utoipa::path(get, path = "/api/auth/me", operation_id = "getMe", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(State(state): State<AppState>, me: CurrentUser) -> Json<Me> {
    Json(Me {
        user: me.user.into(),
        media_max_bytes: state.media.max_bytes,
    })
}
