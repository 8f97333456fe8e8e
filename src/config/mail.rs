//! Mail settings: the SMTP server, the sender, and the base of links sent by mail.

use super::raw::{ConfigError, RawSettings, Secret};
use super::setting::{DefaultValue, Section, Setting};

/// The mail settings.
pub const SECTION: Section = Section {
    title: "Mail",
    settings: &[
        Setting::special(
            "SMTP_URL",
            DefaultValue::Unset,
            "`smtp://host:25` (plain), `smtp://user:pass@host:587?tls=required` (STARTTLS) or \
             `smtps://user:pass@host:465` (TLS); without it mail goes to \
             `$DATA_DIR/outbox/*.eml` and the log",
        ),
        Setting::number(
            "SMTP_TIMEOUT_MS",
            "30000",
            100..=120_000,
            "longest one try to hand a mail to the SMTP server may take (connecting to the end \
             of the data); 5 tries with backoff",
        ),
        Setting::text(
            "MAIL_FROM",
            "Switchboard <no-reply@localhost>",
            "sender of outgoing mail",
        ),
        Setting::url(
            "FRONTEND_BASE_URL",
            "http://localhost:8080",
            "base of links in mails",
        ),
    ],
};

/// `SMTP_URL`: `smtp://` or `smtps://` when set.
pub(super) fn smtp_url(raw: &RawSettings) -> Result<Option<Secret>, ConfigError> {
    let url = raw.get("SMTP_URL").map(Secret::new);
    if let Some(url) = &url {
        let scheme_ok = ["smtp://", "smtps://"]
            .iter()
            .any(|s| url.expose().starts_with(s));
        if !scheme_ok {
            return Err(ConfigError::new(
                "SMTP_URL",
                "expected smtp://host:port or smtps://user:password@host:port",
            ));
        }
    }
    Ok(url)
}
