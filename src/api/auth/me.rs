//! `GET /api/auth/me`.

use crate::api::extract::Json;
use crate::auth::extract::CurrentUser;
use crate::users::UserView;

/// The caller's own user.
#[utoipa::path(get, path = "/api/auth/me", operation_id = "getMe", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(me: CurrentUser) -> Json<UserView> {
    Json(me.user.into())
}
