//! A fake AI provider on a local port: OpenAI-compatible Chat Completions from a script.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;

/// One scripted answer of the fake AI provider.
#[derive(Clone, Debug)]
pub struct AiAnswer {
    /// HTTP status.
    pub status: u16,
    /// `Retry-After` header, if any.
    pub retry_after: Option<u64>,
    /// Body.
    pub body: Value,
    /// How long to wait before answering.
    pub delay_ms: u64,
}

impl AiAnswer {
    /// 200 with a text answer.
    pub fn text(text: &str) -> Self {
        Self::ok(serde_json::json!({"role": "assistant", "content": text}))
    }

    /// 200 with one tool call (and optional text).
    pub fn tool(name: &str, arguments: Value, text: Option<&str>) -> Self {
        Self::ok(
            serde_json::json!({"role": "assistant", "content": text, "tool_calls": [
            {"id": format!("call_{name}"), "type": "function",
             "function": {"name": name, "arguments": arguments.to_string()}}]}),
        )
    }

    fn ok(message: Value) -> Self {
        Self {
            status: 200,
            retry_after: None,
            body: serde_json::json!({"id": "cmpl-1", "object": "chat.completion", "model": "test-model",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}}),
            delay_ms: 0,
        }
    }

    /// An error status with a body.
    pub fn error(status: u16, retry_after: Option<u64>) -> Self {
        Self {
            status,
            retry_after,
            body: serde_json::json!({"error": {"message": "scripted failure"}}),
            delay_ms: 0,
        }
    }
}

/// A local OpenAI-compatible Chat Completions server: answers from a script, then with
/// `default`; keeps every request body.
pub struct AiServer {
    /// Base URL (`http://127.0.0.1:<port>/v1`).
    pub url: String,
    requests: Arc<std::sync::Mutex<Vec<Value>>>,
}

impl AiServer {
    /// Starts the server.
    pub async fn start(script: Vec<AiAnswer>, default: AiAnswer) -> Self {
        Self::serve(script, default, None).await
    }

    /// Starts a server that answers requests asking for structured output (`response_format`)
    /// with `structured` and every other with `plain`.
    pub async fn start_structured(structured: AiAnswer, plain: AiAnswer) -> Self {
        Self::serve(Vec::new(), plain, Some(structured)).await
    }

    async fn serve(script: Vec<AiAnswer>, default: AiAnswer, structured: Option<AiAnswer>) -> Self {
        use axum::extract::State;
        use axum::http::{HeaderMap, StatusCode};
        type Shared = (
            Arc<std::sync::Mutex<Vec<Value>>>,
            Arc<std::sync::Mutex<std::collections::VecDeque<AiAnswer>>>,
            AiAnswer,
            Option<AiAnswer>,
        );
        async fn complete(
            State((requests, script, default, structured)): State<Shared>,
            headers: HeaderMap,
            body: axum::Json<Value>,
        ) -> (StatusCode, HeaderMap, axum::Json<Value>) {
            // Recorded, not asserted here: a panic in a handler only drops the connection.
            let mut seen = body.0;
            seen["__authorization"] = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map_or(Value::Null, |v| Value::String(v.to_string()));
            let wants_structure = seen.get("response_format").is_some();
            requests.lock().unwrap().push(seen);
            let answer = match structured {
                Some(answer) if wants_structure => answer,
                _ => script.lock().unwrap().pop_front().unwrap_or(default),
            };
            tokio::time::sleep(Duration::from_millis(answer.delay_ms)).await;
            let mut out = HeaderMap::new();
            if let Some(after) = answer.retry_after {
                out.insert("retry-after", after.to_string().parse().unwrap());
            }
            (
                StatusCode::from_u16(answer.status).unwrap(),
                out,
                axum::Json(answer.body),
            )
        }
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let shared: Shared = (
            requests.clone(),
            Arc::new(std::sync::Mutex::new(script.into())),
            default,
            structured,
        );
        let app = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(complete))
            .with_state(shared);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, requests }
    }

    /// Every request body received so far (with the `Authorization` header it came with under
    /// `__authorization`).
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }
}
