//! Meta settings: Messenger and Instagram webhooks, the Graph API, profiles and sending.

use super::raw::{ConfigError, RawSettings};
use super::setting::{Section, Setting};

/// The Meta settings.
pub const SECTION: Section = Section {
    title: "Meta (Messenger, Instagram Direct)",
    settings: &[
        Setting::secret(
            "META_APP_SECRET",
            "app secret that signs Meta webhook deliveries",
        ),
        Setting::secret("META_VERIFY_TOKEN", "token of Meta's webhook handshake"),
        Setting::url(
            "META_GRAPH_URL",
            "https://graph.facebook.com/v21.0",
            "Graph API base URL",
        ),
        Setting::number(
            "META_TIMEOUT_MS",
            "15000",
            100..=120_000,
            "longest one Graph API call may take",
        ),
        Setting::flag(
            "PROFILE_LOOKUPS",
            "true",
            "look up Messenger and Instagram customers' names and pictures from Meta's user \
             profile API",
        ),
        Setting::number(
            "PROFILE_SWEEP_MS",
            "30000",
            50..=3_600_000,
            "how often contacts whose Meta profile is due are looked up (also at once when a \
             chat opens)",
        ),
        Setting::number(
            "PROFILE_RETRY_MS",
            "60000",
            50..=86_400_000,
            "wait after a failed profile lookup, doubling each time up to a day",
        ),
        Setting::number(
            "OUTBOUND_MAX_ATTEMPTS",
            "6",
            1..=50,
            "delivery tries through the Send API",
        ),
        Setting::number(
            "OUTBOUND_RETRY_BASE_MS",
            "1000",
            1..=600_000,
            "first backoff between delivery tries through the Send API",
        ),
    ],
};

/// `OUTBOUND_RETRY_BASE_MS` and `OUTBOUND_MAX_ATTEMPTS` as one backoff.
pub(super) fn outbound_backoff(raw: &RawSettings) -> Result<crate::retry::Backoff, ConfigError> {
    Ok(crate::retry::backoff(
        raw.number("OUTBOUND_RETRY_BASE_MS")?,
        raw.number("OUTBOUND_MAX_ATTEMPTS")?,
    ))
}
