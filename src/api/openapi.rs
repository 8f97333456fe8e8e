//! `GET /api/openapi.json`: the OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;

use crate::api::{audit, auth, channels, chats, health, hooks, users, webhooks, widget};
use crate::error::{ErrorBody, ErrorDetail};

/// The API description; every documented handler is listed here.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard",
        description = "Realtime messaging hub for support teams. Errors are always \
                       `{\"error\": {\"code\", \"message\"}}`."
    ),
    paths(
        health::health,
        auth::login::login,
        auth::logout::logout,
        auth::me::me,
        auth::password_reset::request_reset,
        auth::password_reset_confirm::confirm_reset,
        users::list::list,
        users::create::create,
        users::show::show,
        users::update::update,
        users::delete::delete,
        users::status::set_status,
        users::password::change_password,
        audit::list,
        channels::list::list,
        channels::create::create,
        channels::update::update,
        channels::delete::delete,
        chats::list::list,
        chats::show::show,
        chats::messages::list,
        chats::reply::reply,
        chats::status::set_status,
        chats::read::mark_read,
        chats::assign::assign,
        chats::handoff::handoff,
        hooks::create,
        hooks::list,
        hooks::delete,
        hooks::deliveries,
        hooks::redeliver,
        widget::sessions::create,
        widget::send::send,
        widget::poll::poll,
        webhooks::verify::verify,
        webhooks::receive::facebook,
        webhooks::receive::instagram,
    ),
    components(schemas(ErrorBody, ErrorDetail, health::Health)),
    modifiers(&BearerAuth),
    tags(
        (name = "system", description = "Health and operations"),
        (name = "auth", description = "Login, sessions, password reset"),
        (name = "users", description = "The account's users"),
        (name = "audit", description = "Who did what"),
        (name = "channels", description = "Facebook pages, Instagram accounts, widgets"),
        (name = "webhooks", description = "Meta's webhook deliveries"),
        (name = "chats", description = "Conversations, replies, notes, status, reads"),
        (name = "widget", description = "The website widget's visitor API"),
    )
)]
pub struct ApiDoc;

/// Declares the bearer token scheme the secured operations refer to.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Serves the OpenAPI document as JSON.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
