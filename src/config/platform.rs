//! Installation settings: the operator's platform token, whether businesses may sign up, and
//! how fast a business's own app may post to its API channel.

use super::raw::{ConfigError, RawSettings, Secret};
use super::setting::{DefaultValue, Section, Setting};

/// The installation settings.
pub const SECTION: Section = Section {
    title: "Installation (many businesses)",
    settings: &[
        Setting::special(
            "PLATFORM_TOKEN",
            DefaultValue::Unset,
            "bearer token (32+ characters) of the operator's platform API \
             (`/api/platform/accounts`); without it that API answers 404",
        ),
        Setting::special(
            "SIGNUP",
            DefaultValue::Value("closed"),
            "`open`: anyone may create an account with `POST /api/auth/signup` (confirmed by a \
             mailed link); `closed`: only the operator creates accounts",
        ),
        Setting::limit(
            "SIGNUP_LIMIT_PER_IP",
            "10/3600",
            "sign-ups allowed per client IP and window",
        ),
        Setting::limit(
            "SIGNUP_LIMIT_PER_EMAIL",
            "3/3600",
            "sign-ups allowed per email and window",
        ),
        Setting::limit(
            "API_CHANNEL_LIMIT",
            "6000/60",
            "messages an API channel takes per window (429 with `Retry-After` beyond)",
        ),
    ],
};

/// Shortest platform token accepted.
const MIN_PLATFORM_TOKEN_LEN: usize = 32;

/// `PLATFORM_TOKEN`: at least 32 characters when set.
pub(super) fn platform_token(raw: &RawSettings) -> Result<Option<Secret>, ConfigError> {
    let token = raw.get("PLATFORM_TOKEN").map(Secret::new);
    if token
        .as_ref()
        .is_some_and(|t| t.expose().len() < MIN_PLATFORM_TOKEN_LEN)
    {
        return Err(ConfigError::new(
            "PLATFORM_TOKEN",
            format!("must be at least {MIN_PLATFORM_TOKEN_LEN} characters"),
        ));
    }
    Ok(token)
}

/// `SIGNUP`: whether self-service sign-up is open.
pub(super) fn signup_open(raw: &RawSettings) -> Result<bool, ConfigError> {
    match raw.value("SIGNUP")?.trim().to_ascii_lowercase().as_str() {
        "open" => Ok(true),
        "closed" => Ok(false),
        other => Err(ConfigError::new(
            "SIGNUP",
            format!("'{other}' is neither `open` nor `closed`"),
        )),
    }
}
