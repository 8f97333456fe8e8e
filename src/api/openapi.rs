//! `GET /api/openapi.json`: the OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;

use crate::api::health;
use crate::error::{ErrorBody, ErrorDetail};

/// The API description; every documented handler is listed here.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard",
        description = "Realtime messaging hub for support teams. Errors are always \
                       `{\"error\": {\"code\", \"message\"}}`."
    ),
    paths(health::health),
    components(schemas(ErrorBody, ErrorDetail, health::Health)),
    tags((name = "system", description = "Health and operations"))
)]
pub struct ApiDoc;

/// Serves the OpenAPI document as JSON.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
