//! `GET /api/users`.

use axum::extract::State;

use crate::api::extract::Json;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::error::AppResult;
use crate::users::UserView;

/// The users of the caller's account (admins and supervisors).
#[utoipa::path(get, path = "/api/users", operation_id = "listUsers", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<UserView>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
) -> AppResult<Json<Vec<UserView>>> {
    me.principal.authorize(Action::ListUsers)?;
    let account = me.principal.account_id;
    let users = state
        .db()
        .run(move |conn| crate::store::users::list(conn, account))
        .await?;
    Ok(Json(users.into_iter().map(UserView::from).collect()))
}
