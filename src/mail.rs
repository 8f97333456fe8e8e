//! Outgoing mail through SMTP (lettre), retried with backoff, or to `DATA_DIR/outbox/` without SMTP.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;
use crate::retry::Backoff;

/// A mail ready to send: both a plain-text and an HTML part.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// Which template to render.
#[derive(Debug, Clone, Copy)]
pub enum Template {
    /// A password reset link.
    PasswordReset,
    /// An invitation to set a first password.
    Invite,
    /// A link that confirms a sign-up's email address.
    ConfirmSignup,
    /// Someone tried to sign up with an address that already has an account.
    AlreadyRegistered,
}

impl Template {
    fn parts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::PasswordReset => (
                "Reset your Switchboard password",
                include_str!("mail/templates/password_reset.txt"),
                include_str!("mail/templates/password_reset.html"),
            ),
            Self::Invite => (
                "You are invited to Switchboard",
                include_str!("mail/templates/invite.txt"),
                include_str!("mail/templates/invite.html"),
            ),
            Self::ConfirmSignup => (
                "Confirm your Switchboard account",
                include_str!("mail/templates/confirm_signup.txt"),
                include_str!("mail/templates/confirm_signup.html"),
            ),
            Self::AlreadyRegistered => (
                "Your Switchboard account",
                include_str!("mail/templates/already_registered.txt"),
                include_str!("mail/templates/already_registered.html"),
            ),
        }
    }

    /// Fills the template; values are HTML-escaped in the HTML part.
    pub fn render(self, to: &str, values: &[(&str, &str)]) -> Mail {
        let (subject, text, html) = self.parts();
        let mut text = text.to_string();
        let mut html = html.to_string();
        for (key, value) in values {
            let placeholder = format!("{{{{{key}}}}}");
            text = text.replace(&placeholder, value);
            html = html.replace(&placeholder, &escape_html(value));
        }
        Mail {
            to: to.to_string(),
            subject: subject.to_string(),
            text,
            html,
        }
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Sends mail: SMTP when configured, else the outbox folder and the log.
pub struct Mailer {
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    outbox: PathBuf,
    from: Mailbox,
    backoff: Backoff,
    /// Longest one SMTP try may take, from connecting to the end of the data.
    timeout: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("smtp", &self.smtp.is_some())
            .field("outbox", &self.outbox)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Builds the mailer from `SMTP_URL`, `MAIL_FROM` and `DATA_DIR`.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .with_context(|| format!("MAIL_FROM: '{}' is not a mail address", config.mail_from))?;
        let smtp = match &config.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .context("SMTP_URL: not a valid SMTP URL")?
                    .timeout(Some(config.smtp_timeout))
                    .build(),
            ),
            None => None,
        };
        Ok(Self {
            smtp,
            outbox: config.data_dir.join("outbox"),
            from,
            timeout: config.smtp_timeout,
            backoff: Backoff {
                attempts: 5,
                base: Duration::from_millis(500),
                max: Duration::from_secs(30),
            },
        })
    }

    /// Sends in the background; failures are retried and logged, never shown to the requester.
    pub fn send_later(self: &Arc<Self>, mail: Mail) {
        let mailer = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(e) = mailer.send(&mail).await {
                tracing::error!(to = %mail.to, subject = %mail.subject, error = %e, "mail not delivered");
            }
        });
    }

    /// Sends now, retrying SMTP failures with backoff and jitter.
    pub async fn send(&self, mail: &Mail) -> anyhow::Result<()> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(mail
                .to
                .parse()
                .with_context(|| format!("'{}' is not a mail address", mail.to))?)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .context("building the mail")?;
        let Some(smtp) = &self.smtp else {
            return self.write_to_outbox(mail, &message).await;
        };
        let mut attempt = 1;
        loop {
            // lettre bounds connecting only; a server that stops answering is cut here.
            let error = match tokio::time::timeout(self.timeout, smtp.send(message.clone())).await {
                Ok(Ok(_)) => {
                    tracing::info!(to = %mail.to, subject = %mail.subject, "mail sent");
                    return Ok(());
                }
                Ok(Err(e)) if e.is_permanent() => return Err(e).context("SMTP"),
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("no answer within {} ms", self.timeout.as_millis()),
            };
            if attempt >= self.backoff.attempts {
                anyhow::bail!("SMTP: {error} (gave up after {attempt} tries)");
            }
            let delay = self.backoff.delay(attempt);
            tracing::warn!(to = %mail.to, attempt, %error, ?delay, "SMTP failed; retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn write_to_outbox(&self, mail: &Mail, message: &Message) -> anyhow::Result<()> {
        let dir = self.outbox.clone();
        let name = format!(
            "{}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            crate::tokens::random_hex(4)
        );
        let bytes = message.formatted();
        let path = dir.join(name);
        let written = path.clone();
        tokio::task::spawn_blocking(move || {
            // Written under a temporary name, then renamed: a reader never sees half a mail.
            // Readable by the hub's user only: the mails hold live reset and invitation links.
            use std::io::Write;
            use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)?;
            let partial = written.with_extension("eml.part");
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&partial)?
                .write_all(&bytes)?;
            std::fs::rename(&partial, &written)
        })
        .await?
        .with_context(|| format!("writing {}", path.display()))?;
        tracing::info!(
            to = %mail.to,
            subject = %mail.subject,
            file = %path.display(),
            "no SMTP_URL: mail written to the outbox"
        );
        Ok(())
    }
}

/// How long a link stays valid, as a person says it: "30 minutes", "1 hour", "7 days".
pub fn validity(minutes: i64) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if minutes >= 1440 && minutes % 1440 == 0 {
        plural(minutes / 1440, "day")
    } else if minutes >= 60 && minutes % 60 == 0 {
        plural(minutes / 60, "hour")
    } else {
        plural(minutes, "minute")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_both_parts_and_escape_html() {
        let mail = Template::PasswordReset.render(
            "a@b.c",
            &[
                ("name", "<Ann & Bob>"),
                ("link", "https://x/reset?token=1"),
                ("validity", "30 minutes"),
            ],
        );
        assert!(mail.text.contains("Hello <Ann & Bob>,"));
        assert!(mail.html.contains("Hello &lt;Ann &amp; Bob&gt;,"));
        assert!(mail.text.contains("https://x/reset?token=1"));
        assert!(!mail.html.contains("{{"));
        assert!(mail.text.contains("within 30 minutes"));
    }

    #[test]
    fn each_paragraph_of_the_text_part_is_one_line_for_the_mail_client_to_wrap() {
        for template in [Template::PasswordReset, Template::Invite] {
            let mail = template.render(
                "a@b.c",
                &[
                    ("name", "Maria Fernanda de la Cruz"),
                    (
                        "link",
                        "https://support.example.com/reset-password?token=abc",
                    ),
                    ("validity", "30 minutes"),
                ],
            );
            for paragraph in mail.text.split("\n\n") {
                let lines: Vec<&str> = paragraph.trim().lines().collect();
                assert_eq!(
                    lines.len(),
                    1,
                    "{template:?} breaks a paragraph: {paragraph:?}"
                );
                let line = lines[0];
                let whole = line.ends_with([',', '.', ':'])
                    || line.starts_with("https://")
                    || line == "Switchboard";
                assert!(whole, "{template:?} ends a line mid-sentence: {line:?}");
            }
            assert!(
                !mail.html.contains(" open this\nlink") && !mail.html.contains("choose\nyour"),
                "{template:?}: the HTML part keeps its sentences on one line"
            );
        }
    }

    #[test]
    fn validity_reads_as_a_person_says_it() {
        assert_eq!(validity(10_080), "7 days");
        assert_eq!(validity(1_440), "1 day");
        assert_eq!(validity(60), "1 hour");
        assert_eq!(validity(120), "2 hours");
        assert_eq!(validity(30), "30 minutes");
        assert_eq!(validity(1), "1 minute");
        assert_eq!(validity(90), "90 minutes");
    }
}
