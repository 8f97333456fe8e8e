//! Outgoing webhook settings: timeouts, retries and the private hosts they may reach.

use super::raw::RawSettings;
use super::setting::{DefaultValue, Section, Setting};

/// The outgoing webhook settings.
pub const SECTION: Section = Section {
    title: "Outgoing webhooks",
    settings: &[
        Setting::number(
            "WEBHOOK_TIMEOUT_MS",
            "10000",
            100..=120_000,
            "outgoing webhook call timeout",
        ),
        Setting::number(
            "WEBHOOK_RETRY_BASE_MS",
            "2000",
            1..=3_600_000,
            "first backoff between outgoing webhook tries",
        ),
        Setting::number(
            "WEBHOOK_RETRY_FOR_SECONDS",
            "86400",
            1..=2_592_000,
            "how long a failing delivery is retried before it becomes a dead letter",
        ),
        Setting::special(
            "WEBHOOK_ALLOW_PRIVATE_HOSTS",
            DefaultValue::Unset,
            "comma-separated host names (or addresses) outgoing webhooks may reach on private \
             addresses, for on-premises receivers",
        ),
    ],
};

/// `WEBHOOK_ALLOW_PRIVATE_HOSTS`: comma-separated host names, in lower case.
pub(super) fn allow_private_hosts(raw: &RawSettings) -> Vec<String> {
    raw.get("WEBHOOK_ALLOW_PRIVATE_HOSTS")
        .unwrap_or("")
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}
