//! AI responder settings: the provider, the model and its prompt, timeouts, retries and history.

use super::raw::{ConfigError, RawSettings};
use super::setting::{DefaultValue, Section, Setting};

/// The AI responder's settings.
pub const SECTION: Section = Section {
    title: "AI responder",
    settings: &[
        Setting::url(
            "AI_BASE_URL",
            "https://api.openai.com/v1",
            "any OpenAI-compatible Chat Completions API (OpenAI, OpenRouter, Ollama, vLLM)",
        ),
        Setting::secret("AI_API_KEY", "key for the AI provider"),
        Setting::text("AI_MODEL", "gpt-4o-mini", "default model"),
        Setting::special(
            "AI_SYSTEM_PROMPT_FILE",
            DefaultValue::Derived("built-in prompt"),
            "file with the system prompt of AI channels that have none of their own",
        ),
        Setting::number(
            "AI_TIMEOUT_MS",
            "30000",
            100..=600_000,
            "longest one provider call may take",
        ),
        Setting::number(
            "AI_MAX_ATTEMPTS",
            "4",
            1..=20,
            "tries per answer before the chat goes to a person",
        ),
        Setting::number(
            "AI_RETRY_BASE_MS",
            "500",
            1..=60_000,
            "first backoff between provider tries",
        ),
        Setting::number(
            "AI_COALESCE_MS",
            "1500",
            0..=60_000,
            "pause the responder waits for more customer messages before answering",
        ),
        Setting::number(
            "AI_HISTORY_TOKENS",
            "3000",
            100..=1_000_000,
            "approximate tokens of chat history sent with each request (oldest dropped first)",
        ),
    ],
};

/// The system prompt of AI channels that have none of their own.
const DEFAULT_SYSTEM_PROMPT: &str = "You are the first-line support assistant of this business. \
Answer briefly and politely in the customer's language. When you cannot help, when the customer \
asks for a person, or when the matter needs a human decision, call handoff_to_human. When the \
customer shares contact details or shows buying intent, call capture_lead.";

/// The file `AI_SYSTEM_PROMPT_FILE` names, read; else the built-in prompt.
pub(super) fn system_prompt(raw: &RawSettings) -> Result<String, ConfigError> {
    match raw.get("AI_SYSTEM_PROMPT_FILE") {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(
                "AI_SYSTEM_PROMPT_FILE",
                format!("cannot read '{path}': {e}"),
            )
        }),
        None => Ok(DEFAULT_SYSTEM_PROMPT.to_string()),
    }
}
