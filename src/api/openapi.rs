//! `GET /api/openapi.json`: the OpenAPI document. Its paths come from the router, where each
//! route is registered once with its handler's annotation; this adds what every document
//! shares (info, tags, security, standard responses) and what no handler describes (streams).

use std::sync::Arc;

use axum::{Extension, Json};
use utoipa::{Modify, OpenApi};

use crate::api::health;
use crate::error::{ErrorBody, ErrorDetail};

/// The parts of the API description that are not a route's own.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard",
        description = "Realtime messaging hub for support teams. Errors are always \
                       `{\"error\": {\"code\", \"message\"}}`."
    ),
    components(schemas(ErrorBody, ErrorDetail, health::Health)),
    tags(
        (name = "system", description = "Health and operations"),
        (name = "auth", description = "Login, sessions, password reset"),
        (name = "users", description = "The account's users"),
        (name = "audit", description = "Who did what"),
        (name = "channels", description = "Facebook pages, Instagram accounts, widgets"),
        (name = "webhooks", description = "Meta's webhook deliveries"),
        (name = "chats", description = "Conversations, replies, notes, status, reads"),
        (name = "media", description = "Photos, voice notes, videos and files: uploads and kept attachments"),
        (name = "widget", description = "The website widget's visitor API"),
        (name = "stream", description = "The agents' live event stream"),
        (name = "canned responses", description = "The account's ready answers"),
        (name = "labels", description = "Labels on chats and contacts"),
        (name = "contacts", description = "Customers' details"),
        (name = "leads", description = "Leads and where the team stands with each"),
        (name = "search", description = "Full-text search over messages and contacts"),
        (name = "account", description = "The caller's own business: name, time zone, language"),
        (name = "platform", description = "The installation's operator: create, list, suspend, \
                                           resume and erase accounts (`PLATFORM_TOKEN`)"),
        (name = "ai", description = "A business's own AI provider, key, pause and budgets, and its usage"),
        (name = "api keys", description = "Integration keys: scoped, shown once, revocable; \
                                           `Authorization: Bearer sbk_...` within their scopes"),
        (name = "api channel", description = "A business's own app posting its customers' \
                                              messages with the channel's key"),
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
        components.add_security_scheme(
            "platform",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("the installation's PLATFORM_TOKEN"))
                    .build(),
            ),
        );
    }
}

/// Documents the answers every operation can give by the hub's conventions, so a client knows
/// every status it may meet: 401 where a token is needed, 400/413/415/422 where a JSON body is
/// read, 400/422 where a query is read, 404 where an id is in the path, and a `default` for
/// the rest (408 timeouts, 429 limits, 503 outages), all in the JSON error shape.
struct StandardResponses;

impl utoipa::Modify for StandardResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let parameters = operation.parameters.as_deref().unwrap_or_default();
                let has_query = parameters
                    .iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query));
                let has_path = parameters
                    .iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Path));
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let mut add = |status: &str, description: &str| {
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error_response(description));
                };
                if secured {
                    add(
                        "401",
                        "No token, or a token that is not (or no longer) valid",
                    );
                }
                if operation.request_body.is_some() {
                    add("400", "`invalid_json`: the body is not JSON");
                    add("413", "The body is larger than MAX_BODY_BYTES");
                    add("415", "The body is not `application/json`");
                    add(
                        "422",
                        "`invalid_fields`, `invalid_text` or a field's own code",
                    );
                }
                if has_query {
                    add(
                        "400",
                        "`invalid_query`: a query parameter has the wrong type; \
                         `invalid_text`: it holds NUL (%00)",
                    );
                    add("422", "A query parameter is out of its range");
                }
                if has_path {
                    add(
                        "400",
                        "A path parameter has the wrong type, or holds NUL (%00)",
                    );
                    add("404", "Not found, or not yours");
                }
                add(
                    "default",
                    "Any other error (405, 408 timeout, 429 rate limited with Retry-After, \
                     503 a dependency is down), in the JSON error shape",
                );
            }
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// Describes what is served beside the JSON operations: the two WebSocket streams and the
/// metrics, so the reference names every entry point.
struct StreamsAndOperations;

impl utoipa::Modify for StreamsAndOperations {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
        use utoipa::openapi::{PathItem, Required, ResponseBuilder};
        let query = |name: &str, description: &str, required: bool| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .description(Some(description))
                .required(if required {
                    Required::True
                } else {
                    Required::False
                })
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::String),
                ))
                .build()
        };
        let stream = |id: &str, tag: &str, summary: &str, description: &str, params| {
            OperationBuilder::new()
                .operation_id(Some(id))
                .tag(tag)
                .summary(Some(summary))
                .description(Some(description))
                .parameters(Some(params))
                .response(
                    "101",
                    ResponseBuilder::new()
                        .description("Switching Protocols: the WebSocket stream begins")
                        .build(),
                )
                .response("401", error_response("No token, or a bad one"))
                .response("default", error_response("Any other error"))
                .build()
        };
        openapi.paths.paths.insert(
            "/ws".to_string(),
            PathItem::new(
                HttpMethod::Get,
                stream(
                    "agentStream",
                    "stream",
                    "Agent event stream (WebSocket)",
                    "Upgrade to a WebSocket. The token comes as `?token=` or as the subprotocol \
                     `Sec-WebSocket-Protocol: bearer, <jwt>`. First frame: \
                     `{\"type\":\"hello\",\"seq\":<latest>,\"user\":{...}}`; then every committed \
                     event the caller may see, `{\"seq\",\"type\",\"chat_id\",\"data\",\"at\"}`, in seq \
                     order (`chat.created`, `chat.updated`, `chat.assigned`, `message.created`, \
                     `message.updated`, `chat.read`, `lead.captured`), and ephemeral `typing` and \
                     `presence.updated` frames. With `since`, the missed events first. \
                     `{\"type\":\"resync_required\",\"seq\":<n>}` ends a stream the client must \
                     reload (n: the last event delivered). Client frames: \
                     `{\"type\":\"ping\"}` (answered `pong`), `{\"type\":\"typing\",\"chat_id\",\"on\"}`.",
                    vec![
                        query("token", "The access token (or use the subprotocol)", false),
                        query("since", "Resume after this seq", false),
                    ],
                ),
            ),
        );
        openapi.paths.paths.insert(
            "/ws/widget".to_string(),
            PathItem::new(
                HttpMethod::Get,
                stream(
                    "visitorStream",
                    "widget",
                    "Visitor stream (WebSocket)",
                    "Upgrade to a WebSocket with a visitor token (`?token=` or `Authorization: \
                     Bearer`); the page's `Origin` must be one of the channel's allowed origins \
                     (403). Frames: `hello`, then replies in the visitor's own chats \
                     (`message.created`, never notes, no seq) and agents' `typing`; the visitor \
                     may send `{\"type\":\"typing\",\"on\":true}` and `{\"type\":\"ping\"}`.",
                    vec![query("token", "The visitor token", false)],
                ),
            ),
        );
        let metrics = OperationBuilder::new()
            .operation_id(Some("getMetrics"))
            .tag("system")
            .summary(Some("Prometheus metrics"))
            .description(Some(
                "OpenMetrics text. Closed (404) unless METRICS_TOKEN is set; then send \
                 `Authorization: Bearer <METRICS_TOKEN>`.",
            ))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("OpenMetrics text exposition")
                    .content(
                        "application/openmetrics-text",
                        utoipa::openapi::ContentBuilder::new()
                            .schema(Some(
                                utoipa::openapi::ObjectBuilder::new()
                                    .schema_type(utoipa::openapi::schema::Type::String),
                            ))
                            .build(),
                    )
                    .build(),
            )
            .response("401", error_response("A missing or wrong metrics token"))
            .response("404", error_response("Metrics are not enabled"))
            .build();
        openapi.paths.paths.insert(
            "/metrics".to_string(),
            PathItem::new(HttpMethod::Get, metrics),
        );
    }
}

/// Finishes the document the router generated: security scheme, standard responses, streams.
pub fn finish(mut document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for modifier in [
        &BearerAuth as &dyn Modify,
        &StandardResponses,
        &StreamsAndOperations,
    ] {
        modifier.modify(&mut document);
    }
    document
}

/// The document as served: every string schema without a pattern of its own says that the
/// hub refuses NUL (U+0000) in it, as it does in every string it reads.
pub fn served(document: &utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut value = serde_json::to_value(document).unwrap_or_default();
    describe_language_tags(&mut value);
    describe_channel_inputs(&mut value);
    refuse_nul(&mut value);
    value
}

/// What the derive cannot say of a new or changed channel: each allowed origin is `*` or an
/// `http(s)://host[:port]` origin, and a Messenger or Instagram channel needs the numeric id of
/// its page or account.
fn describe_channel_inputs(document: &mut serde_json::Value) {
    let origin = serde_json::json!({
        "type": "string",
        "pattern": "^(\\*|https?://[^/ \\u0000]+/*)$"
    });
    for schema in ["CreateChannel", "UpdateChannel"] {
        let pointer = format!("/components/schemas/{schema}/properties/allowed_origins");
        if let Some(serde_json::Value::Object(origins)) = document.pointer_mut(&pointer) {
            origins.insert("items".into(), origin.clone());
        }
    }
    if let Some(serde_json::Value::Object(create)) =
        document.pointer_mut("/components/schemas/CreateChannel")
    {
        create.insert(
            "if".into(),
            serde_json::json!({"properties": {"kind": {"const": "widget"}}}),
        );
        create.insert(
            "else".into(),
            serde_json::json!({
                "required": ["external_id"],
                "properties": {
                    "external_id": {"type": "string", "pattern": "^[0-9]+$"}
                }
            }),
        );
    }
}

/// What the derive cannot say of a widget's handoff messages by language: the keys are
/// language tags (`de`, `pt-BR`, 2 to 35 characters), at most 50, each text at most 500
/// characters.
fn describe_language_tags(document: &mut serde_json::Value) {
    let pointer = "/components/schemas/WidgetSettings/properties/handoff_message_by_language";
    if let Some(serde_json::Value::Object(map)) = document.pointer_mut(pointer) {
        map.insert(
            "propertyNames".into(),
            serde_json::json!({
                "type": "string",
                "minLength": 2,
                "maxLength": 35,
                "pattern": "^[A-Za-z0-9]+([-_][A-Za-z0-9]+)*$"
            }),
        );
        map.insert("maxProperties".into(), 50.into());
        map.insert(
            "additionalProperties".into(),
            serde_json::json!({"type": "string", "maxLength": 500}),
        );
    }
}

/// The pattern of a string without NUL.
pub const NO_NUL: &str = "^[^\\u0000]*$";

fn refuse_nul(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(object) => {
            let is_string = match object.get("type") {
                Some(serde_json::Value::String(t)) => t == "string",
                Some(serde_json::Value::Array(types)) => types.iter().any(|t| t == "string"),
                _ => false,
            };
            let free = !object.contains_key("pattern")
                && !object.contains_key("enum")
                && !object.contains_key("format");
            if is_string && free {
                object.insert("pattern".into(), NO_NUL.into());
            }
            object.values_mut().for_each(refuse_nul);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(refuse_nul),
        _ => {}
    }
}

/// The finished document, built once with the router.
#[derive(Clone)]
pub struct Document(pub Arc<serde_json::Value>);

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Document")
    }
}

/// Serves the OpenAPI document as JSON.
pub async fn openapi(Extension(document): Extension<Document>) -> Json<serde_json::Value> {
    Json(document.0.as_ref().clone())
}
