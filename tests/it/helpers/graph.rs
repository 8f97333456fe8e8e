//! A fake Meta Graph API on a local port: the Send API and the Attachment Upload API
//! answering from a script, and `me`.

use std::sync::Arc;

use serde_json::Value;
use tokio::net::TcpListener;

use super::meta::PAGE_ID;

/// One request the fake Graph API received.
#[derive(Debug, Clone)]
pub struct GraphRequest {
    /// The path, e.g. `/104857600000001/messages`.
    pub path: String,
    /// The `Authorization` header.
    pub authorization: String,
    /// The JSON body.
    pub body: Value,
}

/// One file the fake Graph API received through `/{page}/message_attachments`.
#[derive(Debug, Clone)]
pub struct GraphUpload {
    /// The path, e.g. `/104857600000001/message_attachments`.
    pub path: String,
    /// The `Authorization` header.
    pub authorization: String,
    /// The `message` field, as JSON.
    pub message: Value,
    /// The `filedata` part's file name.
    pub file_name: String,
    /// The `filedata` part's content type.
    pub content_type: String,
    /// The `filedata` part's bytes.
    pub bytes: Vec<u8>,
    /// The `attachment_id` it was answered with (`None` when the script refused it).
    pub attachment_id: Option<String>,
}

type Script = Arc<std::sync::Mutex<std::collections::VecDeque<(u16, Value)>>>;
type Uploads = Arc<std::sync::Mutex<Vec<GraphUpload>>>;

/// A local server speaking the Graph Send API: answers from a script, then with success.
pub struct GraphServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    requests: Arc<std::sync::Mutex<Vec<GraphRequest>>>,
    uploads: Uploads,
}

impl GraphServer {
    /// Starts a server that answers the scripted `(status, body)` pairs in order (sends and
    /// uploads alike), then `200 {"recipient_id", "message_id": "m_sent_<n>"}` for a send and
    /// `200 {"attachment_id": "att_<n>"}` for an upload.
    pub async fn start(script: Vec<(u16, Value)>) -> Self {
        use axum::extract::{Path, State};
        use axum::http::{HeaderMap, StatusCode};
        type Shared = (
            Arc<std::sync::Mutex<Vec<GraphRequest>>>,
            Arc<std::sync::Mutex<std::collections::VecDeque<(u16, Value)>>>,
        );
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let script = Arc::new(std::sync::Mutex::new(
            script
                .into_iter()
                .collect::<std::collections::VecDeque<_>>(),
        ));
        let app = axum::Router::new()
            .route(
                "/{page}/messages",
                axum::routing::post(
                    |State((requests, script)): State<Shared>, Path(page): Path<String>, headers: HeaderMap, axum::Json(body): axum::Json<Value>| async move {
                        let n = {
                            let mut seen = requests.lock().unwrap();
                            seen.push(GraphRequest {
                                path: format!("/{page}/messages"),
                                authorization: headers
                                    .get("authorization")
                                    .and_then(|v| v.to_str().ok())
                                    .unwrap_or_default()
                                    .to_string(),
                                body: body.clone(),
                            });
                            seen.len()
                        };
                        let next = script.lock().unwrap().pop_front();
                        let (status, reply) = next.unwrap_or_else(|| {
                            (200, serde_json::json!({"recipient_id": body["recipient"]["id"], "message_id": format!("m_sent_{n}")}))
                        });
                        (StatusCode::from_u16(status).unwrap(), axum::Json(reply))
                    },
                ),
            )
            .route("/me", axum::routing::get(graph_me))
            .with_state((requests.clone(), script.clone()));
        let uploads = Uploads::default();
        let app = app.merge(
            axum::Router::new()
                .route(
                    "/{page}/message_attachments",
                    axum::routing::post(message_attachments),
                )
                .with_state((uploads.clone(), script)),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind graph");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            requests,
            uploads,
        }
    }

    /// Everything received so far.
    pub fn requests(&self) -> Vec<GraphRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// Every file uploaded so far.
    pub fn uploads(&self) -> Vec<GraphUpload> {
        self.uploads.lock().unwrap().clone()
    }
}

/// The Attachment Upload API: reads the multipart `message` and `filedata`, records them, and
/// answers from the script or with a new `attachment_id`.
async fn message_attachments(
    axum::extract::State((uploads, script)): axum::extract::State<(Uploads, Script)>,
    axum::extract::Path(page): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> (axum::http::StatusCode, axum::Json<Value>) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let boundary = multer::parse_boundary(header("content-type")).expect("a multipart upload");
    let mut multipart = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut upload = GraphUpload {
        path: format!("/{page}/message_attachments"),
        authorization: header("authorization"),
        message: Value::Null,
        file_name: String::new(),
        content_type: String::new(),
        bytes: Vec::new(),
        attachment_id: None,
    };
    while let Some(field) = multipart.next_field().await.expect("a well-formed upload") {
        match field.name() {
            Some("message") => {
                upload.message = serde_json::from_str(&field.text().await.unwrap()).unwrap();
            }
            Some("filedata") => {
                upload.file_name = field.file_name().unwrap_or_default().to_string();
                upload.content_type = field
                    .content_type()
                    .map(|m| m.to_string())
                    .unwrap_or_default();
                upload.bytes = field.bytes().await.unwrap().to_vec();
            }
            other => panic!("unexpected field {other:?}"),
        }
    }
    let mut uploads = uploads.lock().unwrap();
    let (status, reply) = script.lock().unwrap().pop_front().unwrap_or_else(|| {
        let id = format!("att_{}", uploads.len() + 1);
        (200, serde_json::json!({"attachment_id": id}))
    });
    upload.attachment_id = reply["attachment_id"].as_str().map(str::to_string);
    uploads.push(upload);
    (
        axum::http::StatusCode::from_u16(status).unwrap(),
        axum::Json(reply),
    )
}

/// The page a page access token speaks for in the fake Graph API (`GET /me?fields=id,name`).
pub const PAGE_NAME: &str = "Blue Sofa Shop";

/// Graph's `me` as the fake answers it: a page access token (sent as a bearer) speaks for
/// the fixtures' page, except one starting `refused-`, which Meta refuses as it refuses an
/// expired or revoked token; no token is refused too.
async fn graph_me(headers: axum::http::HeaderMap) -> (axum::http::StatusCode, axum::Json<Value>) {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if token.is_empty() || token.starts_with("refused-") {
        let refusal = serde_json::json!({"error": {
            "message": "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
            "type": "OAuthException", "code": 190, "error_subcode": 460, "fbtrace_id": "AbCdEf"}});
        return (axum::http::StatusCode::BAD_REQUEST, axum::Json(refusal));
    }
    (
        axum::http::StatusCode::OK,
        axum::Json(serde_json::json!({"id": PAGE_ID, "name": PAGE_NAME})),
    )
}
