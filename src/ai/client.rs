//! One OpenAI-compatible Chat Completions client (OpenAI, OpenRouter, Ollama, vLLM: chosen by
//! base URL), with a timeout per call and retries with backoff and jitter on 429 and 5xx.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{Config, Secret};
use crate::retry::Backoff;

/// Longest pause a provider's `Retry-After` may ask for before we give up instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// One message of the conversation sent to the model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    /// The text (absent on an assistant message that only calls tools).
    #[serde(default)]
    pub content: Option<String>,
    /// Tools the assistant asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For `tool` messages: the call answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    /// A message with text only.
    pub fn text(role: &str, content: impl Into<String>) -> Self {
        Self {
            role: role.to_string(),
            content: Some(content.into()),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
}

/// A tool call requested by the model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ToolCall {
    /// The call's id, echoed in the tool's answer.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type", default = "function")]
    pub kind: String,
    /// Which function, with what arguments.
    pub function: FunctionCall,
}

fn function() -> String {
    "function".to_string()
}

/// The function part of a tool call.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FunctionCall {
    /// The tool's name.
    pub name: String,
    /// Its arguments, as a JSON text.
    #[serde(default)]
    pub arguments: String,
}

/// A Chat Completions request.
#[derive(Debug, Clone, Serialize)]
pub struct ChatRequest {
    /// The model.
    pub model: String,
    /// The conversation, system prompt first.
    pub messages: Vec<ChatMessage>,
    /// Tool definitions (JSON schema).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Value>,
    /// Sampling temperature, when the channel sets one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// The shape the answer must take (`{"type": "json_schema", ...}`), when one is asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
}

/// What the model answered, with what it cost.
#[derive(Debug, Clone)]
pub struct Completion {
    /// The assistant's message.
    pub message: ChatMessage,
    /// The model that answered (as the provider names it).
    pub model: String,
    /// Prompt tokens, as the provider counted them.
    pub prompt_tokens: i32,
    /// Completion tokens.
    pub completion_tokens: i32,
    /// Time spent waiting on the provider, all tries included.
    pub provider_time: Duration,
}

/// Why no completion came back.
#[derive(Debug, thiserror::Error)]
pub enum AiError {
    /// Still failing after every retry (timeouts, 429, 5xx, connection errors).
    #[error("the AI provider is unavailable: {0}")]
    Unavailable(String),
    /// Refused for good (4xx other than 429, or an answer we cannot read).
    #[error("the AI provider refused the request: {0}")]
    Rejected(String),
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    model: Option<String>,
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: ChatMessage,
}

#[derive(Deserialize, Default)]
struct Usage {
    #[serde(default)]
    prompt_tokens: i32,
    #[serde(default)]
    completion_tokens: i32,
}

/// Where one call goes: a Chat Completions URL and the key it is sent with.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// `<base URL>/chat/completions`.
    pub url: String,
    /// The bearer key, if the provider wants one.
    pub key: Option<Secret>,
}

impl Endpoint {
    /// The endpoint of an OpenAI-compatible API at `base_url`.
    pub fn new(base_url: &str, key: Option<Secret>) -> Self {
        Self {
            url: format!("{}/chat/completions", base_url.trim_end_matches('/')),
            key,
        }
    }
}

/// The client; cheap to clone.
#[derive(Debug, Clone)]
pub struct AiClient {
    http: reqwest::Client,
    default: Endpoint,
    backoff: Backoff,
}

impl AiClient {
    /// A client for the configured provider.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.ai_timeout)
            .connect_timeout(config.ai_timeout.min(Duration::from_secs(5)))
            .build()?;
        Ok(Self {
            http,
            default: Endpoint::new(&config.ai_base_url, config.ai_api_key.clone()),
            backoff: Backoff {
                attempts: config.ai_max_attempts,
                base: config.ai_retry_base,
                max: config.ai_retry_base.saturating_mul(16),
            },
        })
    }

    /// The installation's own provider (`AI_BASE_URL`, `AI_API_KEY`).
    pub fn default_endpoint(&self) -> &Endpoint {
        &self.default
    }

    /// Sends the request to the installation's own provider.
    pub async fn complete(&self, request: &ChatRequest) -> Result<Completion, AiError> {
        self.complete_at(&self.default, request).await
    }

    /// Sends the request to `endpoint`, retrying 429 (after `Retry-After` when given), 5xx and
    /// transport errors with backoff; other 4xx fail at once.
    pub async fn complete_at(
        &self,
        endpoint: &Endpoint,
        request: &ChatRequest,
    ) -> Result<Completion, AiError> {
        let mut provider_time = Duration::ZERO;
        let mut last_error = String::new();
        for attempt in 1..=self.backoff.attempts {
            if attempt > 1 {
                tracing::info!(attempt, error = %last_error, "retrying the AI provider");
            }
            let mut call = self.http.post(&endpoint.url).json(request);
            if let Some(key) = &endpoint.key {
                call = call.bearer_auth(key.expose());
            }
            let started = Instant::now();
            let outcome = call.send().await;
            let mut pause = self.backoff.delay(attempt);
            match outcome {
                Ok(response) if response.status().is_success() => {
                    let body = response.text().await;
                    provider_time += started.elapsed();
                    let body = body.map_err(|e| AiError::Unavailable(e.to_string()))?;
                    return parse(&body, &request.model, provider_time);
                }
                Ok(response) => {
                    provider_time += started.elapsed();
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let body = response.text().await.unwrap_or_default();
                    last_error =
                        format!("{status}: {}", body.chars().take(300).collect::<String>());
                    let retryable = status == reqwest::StatusCode::TOO_MANY_REQUESTS
                        || status.is_server_error();
                    if !retryable {
                        return Err(AiError::Rejected(last_error));
                    }
                    if let Some(wait) = retry_after {
                        if wait > MAX_RETRY_AFTER {
                            return Err(AiError::Unavailable(last_error));
                        }
                        pause = wait;
                    }
                }
                Err(e) => {
                    provider_time += started.elapsed();
                    last_error = e.to_string();
                }
            }
            if attempt < self.backoff.attempts {
                tokio::time::sleep(pause).await;
            }
        }
        Err(AiError::Unavailable(last_error))
    }
}

fn parse(body: &str, model: &str, provider_time: Duration) -> Result<Completion, AiError> {
    let response: Response = serde_json::from_str(body)
        .map_err(|e| AiError::Rejected(format!("unreadable answer: {e}")))?;
    let choice = response
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| AiError::Rejected("an answer without choices".into()))?;
    let usage = response.usage.unwrap_or_default();
    Ok(Completion {
        message: choice.message,
        model: response.model.unwrap_or_else(|| model.to_string()),
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        provider_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_and_tool_calls() {
        let body = r#"{"model":"m-1","choices":[{"message":{"role":"assistant","content":null,
            "tool_calls":[{"id":"c1","type":"function","function":{"name":"handoff_to_human","arguments":"{\"reason\":\"x\"}"}}]}}],
            "usage":{"prompt_tokens":12,"completion_tokens":3}}"#;
        let c = parse(body, "fallback", Duration::ZERO).unwrap();
        assert_eq!(c.model, "m-1");
        assert_eq!(c.prompt_tokens, 12);
        assert_eq!(c.message.tool_calls[0].function.name, "handoff_to_human");
        assert!(c.message.content.is_none());
        assert!(matches!(
            parse("{}", "m", Duration::ZERO),
            Err(AiError::Rejected(_))
        ));
    }
}
