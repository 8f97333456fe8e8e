//! Every route of the hub, and the layers every request passes through.

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::routing::get;
use axum::Router;
use tower::ServiceBuilder;
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

/// Builds the application: every route, `/api/openapi.json` with the finished document, wrapped
/// in the common layers.
pub fn build(state: AppState) -> Router {
    let (routes, document) = routes();
    let document = api::openapi::Document(std::sync::Arc::new(api::openapi::served(
        &api::openapi::finish(document),
    )));
    let routes = routes.route(
        "/api/openapi.json",
        get(api::openapi::openapi).layer(axum::Extension(document)),
    );
    layered(routes, state)
}

/// Every route. Each API route is registered once, with its handler's annotation: the same
/// list makes the router and the OpenAPI document's paths.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    use utoipa::OpenApi;
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    let (documented, document) = OpenApiRouter::with_openapi(api::openapi::ApiDoc::openapi())
        .routes(routes!(api::health::health))
        .routes(routes!(api::auth::login::login))
        .routes(routes!(api::auth::logout::logout))
        .routes(routes!(api::auth::me::me))
        .routes(routes!(api::auth::password_reset::request_reset))
        .routes(routes!(api::auth::password_reset_confirm::confirm_reset))
        .routes(routes!(api::auth::signup::open, api::auth::signup::sign_up))
        .routes(routes!(api::auth::signup::confirm))
        .routes(routes!(api::account::show, api::account::update))
        .routes(routes!(api::platform::list, api::platform::create))
        .routes(routes!(
            api::platform::show,
            api::platform::change,
            api::platform::delete
        ))
        .routes(routes!(api::platform::suspend))
        .routes(routes!(api::platform::resume))
        .routes(routes!(api::users::list::list, api::users::create::create))
        .routes(routes!(api::users::status::set_status))
        .routes(routes!(api::users::password::change_password))
        .routes(routes!(
            api::users::show::show,
            api::users::update::update,
            api::users::delete::delete
        ))
        .routes(routes!(api::users::invitation::resend))
        .routes(routes!(api::team::show))
        .routes(routes!(api::api_keys::list, api::api_keys::create))
        .routes(routes!(api::api_keys::revoke))
        .routes(routes!(api::audit::list))
        .routes(routes!(
            api::channels::list::list,
            api::channels::create::create
        ))
        .routes(routes!(
            api::channels::update::update,
            api::channels::delete::delete
        ))
        .routes(routes!(api::ai::show, api::ai::put))
        .routes(routes!(api::ai::show_channel, api::ai::put_channel))
        .routes(routes!(api::ai::usage))
        .routes(routes!(api::channels::messages::post))
        .routes(routes!(api::hooks::list, api::hooks::create))
        .routes(routes!(api::canned::list, api::canned::create))
        .routes(routes!(api::canned::update, api::canned::delete))
        .routes(routes!(api::labels::list, api::labels::create))
        .routes(routes!(api::labels::update, api::labels::delete))
        .routes(routes!(api::labels::label_chat))
        .routes(routes!(api::labels::unlabel_chat))
        .routes(routes!(api::labels::label_contact))
        .routes(routes!(api::labels::unlabel_contact))
        .routes(routes!(api::search::search))
        .routes(routes!(api::chats::suggest::suggest))
        .routes(routes!(
            api::contacts::show,
            api::contacts::update,
            api::contacts::erase
        ))
        .routes(routes!(api::leads::list))
        .routes(routes!(api::leads::export))
        .routes(routes!(api::leads::import))
        .routes(routes!(api::leads::imports))
        .routes(routes!(api::leads::import_status))
        .routes(routes!(api::leads::needs_action))
        .routes(routes!(api::leads::follow_up))
        .routes(routes!(api::leads::show, api::leads::update))
        .routes(routes!(api::hooks::delete))
        .routes(routes!(api::hooks::deliveries))
        .routes(routes!(api::hooks::redeliver))
        .routes(routes!(api::widget::sessions::create))
        .routes(routes!(api::widget::config::show))
        .routes(routes!(api::widget::poll::poll, api::widget::send::send))
        .routes(routes!(api::widget::attachments::upload))
        .routes(routes!(api::chats::list::list))
        .routes(routes!(api::chats::show::show))
        .routes(routes!(
            api::chats::messages::list,
            api::chats::reply::reply
        ))
        .routes(routes!(api::media::upload))
        .routes(routes!(api::media::download))
        .routes(routes!(api::media::thumbnail))
        .routes(routes!(api::chats::status::set_status))
        .routes(routes!(api::chats::read::mark_read))
        .routes(routes!(api::chats::assign::assign))
        .routes(routes!(api::chats::handoff::handoff))
        .routes(routes!(
            api::webhooks::verify::verify,
            api::webhooks::receive::facebook
        ))
        .routes(routes!(
            api::webhooks::verify::verify_instagram,
            api::webhooks::receive::instagram
        ))
        .split_for_parts();
    // Pages, streams and files: described by hand in the document (streams, metrics) or not
    // part of the API.
    let router = documented
        .route("/ws", get(api::stream::connect))
        .route("/ws/widget", get(api::stream::widget))
        .route("/docs", get(api::docs::page))
        .route("/docs/{file}", get(crate::assets::handler))
        .route("/", get(crate::console::page))
        .route("/reset-password", get(crate::console::page))
        .route("/accept-invite", get(crate::console::page))
        .route("/confirm-signup", get(crate::console::page))
        .route("/assets/{*file}", get(crate::assets::handler))
        .route("/widget.js", get(crate::widget::asset))
        .route("/widget.css", get(crate::widget::asset))
        .route("/widget/demo", get(crate::widget::demo))
        .route("/metrics", get(api::metrics::metrics))
        .fallback(|| async { AppError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            AppError::custom(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this method is not allowed here",
            )
        });
    (router, document)
}

/// Wraps routes in the layers every request passes through, outermost first: request id (a
/// client's only when short and plain), tracing, security and cache headers, panics and timeouts
/// as JSON errors, NUL in the address refused, CORS, body limit, metrics. They are stacked into one layer: every
/// `Router::layer` call boxes each route once more, and a request then clones and allocates its
/// way through every box.
pub fn layered(routes: Router<AppState>, state: AppState) -> Router {
    let config = &state.config;
    let x_request_id = HeaderName::from_static("x-request-id");
    let common = ServiceBuilder::new()
        .layer(axum::middleware::map_request(drop_unsafe_request_id))
        .layer(SetRequestIdLayer::new(
            x_request_id.clone(),
            RandomRequestId,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(x_request_id))
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            (config.environment == Environment::Production)
                .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains")),
        ))
        .layer(security_header(header::CACHE_CONTROL, "no-store"))
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::map_response(ensure_json_errors))
        .layer(axum::middleware::map_request(
            api::extract::refuse_nul_in_uri,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(cors(&config.cors_origins))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api::metrics::track,
        ));
    routes.layer(common).with_state(state)
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
