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
        Setting::special(
            "SECRETS_KEY",
            DefaultValue::Unset,
            "32-byte key (64 hex digits or base64) sealing businesses' own AI keys at rest; \
             unset: an account's key cannot be saved (422 `secrets_key_missing`)",
        ),
        Setting::special(
            "SECRETS_KEY_OLD",
            DefaultValue::Unset,
            "the previous `SECRETS_KEY` while `switchboard secrets rotate` re-seals under the new one",
        ),
    ],
};

/// `SECRETS_KEY` and `SECRETS_KEY_OLD`, checked.
pub(super) fn keyring(raw: &RawSettings) -> Result<crate::secrets::Keyring, ConfigError> {
    let read = |name: &str| -> Result<Option<crate::secrets::SecretsKey>, ConfigError> {
        raw.get(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| crate::secrets::SecretsKey::parse(v).map_err(|e| ConfigError::new(name, e)))
            .transpose()
    };
    let keyring = crate::secrets::Keyring {
        current: read("SECRETS_KEY")?,
        old: read("SECRETS_KEY_OLD")?,
    };
    if keyring.old.is_some() && keyring.current.is_none() {
        return Err(ConfigError::new(
            "SECRETS_KEY_OLD",
            "is set without SECRETS_KEY (the key to rotate to)",
        ));
    }
    Ok(keyring)
}

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
