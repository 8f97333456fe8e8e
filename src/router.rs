//! Every route of the hub, and the layers every request passes through.

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::routing::{get, post, put};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::api;
use crate::app::AppState;
use crate::config::Environment;
use crate::error::{ensure_json_errors, AppError};
use crate::telemetry::{drop_unsafe_request_id, request_span, RandomRequestId};

/// Builds the application: every route, wrapped in the common layers.
pub fn build(state: AppState) -> Router {
    layered(routes(), state)
}

fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(api::health::health))
        .route("/api/auth/login", post(api::auth::login::login))
        .route("/api/auth/logout", post(api::auth::logout::logout))
        .route("/api/auth/me", get(api::auth::me::me))
        .route(
            "/api/auth/password-reset",
            post(api::auth::password_reset::request_reset),
        )
        .route(
            "/api/auth/password-reset/confirm",
            post(api::auth::password_reset_confirm::confirm_reset),
        )
        .route(
            "/api/users",
            get(api::users::list::list).post(api::users::create::create),
        )
        .route("/api/users/me/status", put(api::users::status::set_status))
        .route(
            "/api/users/me/password",
            post(api::users::password::change_password),
        )
        .route(
            "/api/users/{id}",
            get(api::users::show::show)
                .patch(api::users::update::update)
                .delete(api::users::delete::delete),
        )
        .route("/api/audit", get(api::audit::list))
        .route(
            "/api/channels",
            get(api::channels::list::list).post(api::channels::create::create),
        )
        .route(
            "/api/channels/{id}",
            axum::routing::patch(api::channels::update::update)
                .delete(api::channels::delete::delete),
        )
        .route(
            "/api/outgoing-webhooks",
            get(api::hooks::list).post(api::hooks::create),
        )
        .route(
            "/api/outgoing-webhooks/{id}",
            axum::routing::delete(api::hooks::delete),
        )
        .route(
            "/api/outgoing-webhooks/deliveries",
            get(api::hooks::deliveries),
        )
        .route(
            "/api/outgoing-webhooks/deliveries/{id}/redeliver",
            post(api::hooks::redeliver),
        )
        .route("/ws", get(api::stream::connect))
        .route("/ws/widget", get(api::stream::widget))
        .route("/api/widget/sessions", post(api::widget::sessions::create))
        .route("/api/widget/config", get(api::widget::config::show))
        .route(
            "/api/widget/messages",
            get(api::widget::poll::poll).post(api::widget::send::send),
        )
        .route("/api/chats", get(api::chats::list::list))
        .route("/api/chats/{id}", get(api::chats::show::show))
        .route(
            "/api/chats/{id}/messages",
            get(api::chats::messages::list).post(api::chats::reply::reply),
        )
        .route(
            "/api/chats/{id}/status",
            post(api::chats::status::set_status),
        )
        .route("/api/chats/{id}/read", post(api::chats::read::mark_read))
        .route("/api/chats/{id}/assign", post(api::chats::assign::assign))
        .route(
            "/api/chats/{id}/handoff",
            post(api::chats::handoff::handoff),
        )
        .route(
            "/api/webhooks/facebook",
            get(api::webhooks::verify::verify).post(api::webhooks::receive::facebook),
        )
        .route(
            "/api/webhooks/instagram",
            get(api::webhooks::verify::verify_instagram).post(api::webhooks::receive::instagram),
        )
        .route("/api/openapi.json", get(api::openapi::openapi))
        .route("/docs", get(api::docs::page))
        .route("/docs/{file}", get(crate::assets::handler))
        .route("/", get(crate::console::page))
        .route("/reset-password", get(crate::console::page))
        .route("/accept-invite", get(crate::console::page))
        .route("/assets/{*file}", get(crate::assets::handler))
        .route("/widget.js", get(crate::widget::asset))
        .route("/widget.css", get(crate::widget::asset))
        .route("/widget/demo", get(crate::widget::demo))
        .route("/api/team", get(api::team::show))
        .route("/metrics", get(api::metrics::metrics))
        .fallback(|| async { AppError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            AppError::custom(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this method is not allowed here",
            )
        })
}

/// Wraps routes in the layers every request passes through (the last added runs first):
/// request id (a client's only when short and plain), tracing, security and cache headers, panics and timeouts as JSON errors, CORS, body limit, metrics.
pub fn layered(routes: Router<AppState>, state: AppState) -> Router {
    let config = &state.config;
    let x_request_id = HeaderName::from_static("x-request-id");
    routes
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api::metrics::track,
        ))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(cors(&config.cors_origins))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(axum::middleware::map_response(ensure_json_errors))
        .layer(CatchPanicLayer::new())
        .layer(security_header(header::CACHE_CONTROL, "no-store"))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            (config.environment == Environment::Production)
                .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains")),
        ))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(x_request_id, RandomRequestId))
        .layer(axum::middleware::map_request(drop_unsafe_request_id))
        .with_state(state)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// CORS for CORS_ORIGINS; the widget API answers any origin (visitor tokens are bearer
/// tokens, never cookies) and checks each channel's allowed origins itself.
fn cors(origins: &[String]) -> CorsLayer {
    let any = origins.iter().any(|o| o == "*");
    let listed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let allow = AllowOrigin::predicate(
        move |origin: &HeaderValue, parts: &axum::http::request::Parts| {
            any || listed.contains(origin) || parts.uri.path().starts_with("/api/widget/")
        },
    );
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .max_age(std::time::Duration::from_secs(3600))
}
