//! A fake Meta Graph API on a local port: the Send API answering from a script, and `me`.

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

/// A local server speaking the Graph Send API: answers from a script, then with success.
pub struct GraphServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    requests: Arc<std::sync::Mutex<Vec<GraphRequest>>>,
}

impl GraphServer {
    /// Starts a server that answers the scripted `(status, body)` pairs in order, then
    /// `200 {"recipient_id", "message_id": "m_sent_<n>"}`.
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
            .with_state((requests.clone(), script));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind graph");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, requests }
    }

    /// Everything received so far.
    pub fn requests(&self) -> Vec<GraphRequest> {
        self.requests.lock().unwrap().clone()
    }
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
