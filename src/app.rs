//! The shared state every handler reads: configuration, database, keys, limits, mailer, metrics.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use crate::auth::hashing::HashingPool;
use crate::auth::jwt::JwtKeys;
use crate::bus::Bus;
use crate::config::Config;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::outbound::meta::GraphClient;
use crate::presence::Presence;
use crate::ratelimit::KeyedLimiter;
use crate::relay::Relay;
use crate::store::Db;

/// Everything one hub process shares between requests.
#[derive(Debug)]
pub struct App {
    /// The validated configuration.
    pub config: Config,
    /// The database, reached through a pool off the async threads.
    db: Db,
    /// Signs and checks access tokens.
    pub jwt: JwtKeys,
    /// Argon2 on the blocking pool, a bounded number at a time.
    pub hashing: HashingPool,
    /// The event bus: commands to the store's writer, committed events to subscribers.
    pub bus: Bus,
    /// Rate limits on logins and reset requests.
    pub limits: Limits,
    /// Meta's Graph API (Send API).
    pub graph: GraphClient,
    /// Where webhook deliveries for each page go.
    pub channel_directory: crate::ingress::directory::ChannelDirectory,
    /// Ended sessions, for closing their live connections at once.
    pub revocations: crate::auth::revocation::Revocations,
    /// Who is connected, here and (with a relay) on the other processes.
    pub presence: Arc<Presence>,
    /// The link to the other hub processes, when `REDIS_URL` is set.
    pub relay: Option<Relay>,
    /// Outgoing mail.
    pub mailer: Arc<Mailer>,
    /// Kept photos, voice notes and files.
    pub media: crate::media::Media,
    /// The OpenAI-compatible provider (the responder and suggestions).
    pub ai: crate::ai::client::AiClient,
    /// Counters and histograms served at `/metrics`.
    pub metrics: Metrics,
    /// When this process started serving.
    pub started_at: Instant,
}

/// The rate limiters of the authentication endpoints.
#[derive(Debug)]
pub struct Limits {
    /// Logins per client IP.
    pub login_ip: KeyedLimiter,
    /// Logins per email.
    pub login_email: KeyedLimiter,
    /// Reset requests per client IP.
    pub reset_ip: KeyedLimiter,
    /// Sign-ups per client IP.
    pub signup_ip: KeyedLimiter,
    /// Sign-ups per email.
    pub signup_email: KeyedLimiter,
    /// Messages per API channel.
    pub api_channel: KeyedLimiter,
    /// Reset requests per email.
    pub reset_email: KeyedLimiter,
    /// Widget calls per client IP.
    pub widget_ip: KeyedLimiter,
    /// Widget messages per visitor session.
    pub widget_session: KeyedLimiter,
    /// Widget polls per visitor session.
    pub widget_poll: KeyedLimiter,
    /// Widget polls per client IP, whatever their sessions.
    pub widget_poll_ip: KeyedLimiter,
    /// Visitor uploads per widget session.
    pub widget_upload: KeyedLimiter,
    /// Lead files arriving at once (each holds a parser's memory until it has arrived).
    pub lead_files: tokio::sync::Semaphore,
}

/// Lead files one process receives at once; another is answered 429 until one has arrived.
pub const LEAD_FILES_AT_ONCE: usize = 2;

impl App {
    /// Assembles the state from the configuration, an open database, a running bus and, when
    /// there are several processes, the relay between them.
    pub async fn build(
        config: Config,
        db: Db,
        bus: Bus,
        relay: Option<Relay>,
    ) -> anyhow::Result<Self> {
        let hashing = HashingPool::new(config.hash_concurrency, config.hash_wait).await?;
        let mailer = Arc::new(Mailer::from_config(&config)?);
        let link = relay.as_ref().map(|r| r.link.clone());
        let mut metrics = Metrics::default();
        if let Some(relay) = &relay {
            metrics.register_relay(&relay.metrics);
        }
        Ok(Self {
            graph: GraphClient::new(&config.meta_graph_url, config.meta_timeout)?,
            ai: crate::ai::client::AiClient::new(&config)?,
            channel_directory: Default::default(),
            jwt: JwtKeys::new(&config.jwt_secret, config.jwt_expiration),
            hashing,
            bus,
            limits: Limits {
                login_ip: KeyedLimiter::new(config.login_limit_per_ip),
                login_email: KeyedLimiter::new(config.login_limit_per_email),
                reset_ip: KeyedLimiter::new(config.reset_limit_per_ip),
                signup_ip: KeyedLimiter::new(config.signup_limit_per_ip),
                signup_email: KeyedLimiter::new(config.signup_limit_per_email),
                api_channel: KeyedLimiter::new(config.api_channel_limit),
                reset_email: KeyedLimiter::new(config.reset_limit_per_email),
                widget_ip: KeyedLimiter::new(config.widget_limit_per_ip),
                widget_session: KeyedLimiter::new(config.widget_limit_per_session),
                widget_poll: KeyedLimiter::new(config.widget_poll_limit_per_session),
                widget_poll_ip: KeyedLimiter::new(config.widget_poll_limit_per_ip),
                lead_files: tokio::sync::Semaphore::new(LEAD_FILES_AT_ONCE),
                widget_upload: KeyedLimiter::new(config.media.widget_upload_limit),
            },
            mailer,
            media: crate::media::Media::from_config(&config)?,
            presence: Arc::new(Presence::new(config.presence_grace, link.clone())),
            revocations: crate::auth::revocation::Revocations::new(link),
            relay,
            metrics,
            started_at: Instant::now(),
            config,
            db,
        })
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }
}

/// The handle axum passes to handlers: cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}
