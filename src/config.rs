//! Settings: `config/default.toml` <- `config/$SWITCHBOARD_ENV.toml` <- `.env` <- environment, validated once.
//!
//! Each setting is declared once, in its section's file (`config/server.rs`, `config/ai.rs`, ...)
//! and read here by name; the `config/` folder is found by [`config_dir`].

mod ai;
mod auth;
mod cluster;
mod database;
mod leads;
mod mail;
mod media;
mod meta;
mod platform;
mod raw;
mod read;
mod realtime;
mod server;
pub mod setting;
mod webhooks;
mod widget;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use media::{MediaConfig, MediaLocation};
pub use raw::{ConfigError, RawSettings, Secret};
pub use server::{Environment, LogFormat};
use setting::{Section, Setting};

use crate::ratelimit::Limit;
use crate::store::connection::DatabaseUrl;

/// The validated configuration of one hub process.
#[derive(Clone, Debug)]
pub struct Config {
    /// Which environment this process runs in (`SWITCHBOARD_ENV`).
    pub environment: Environment,
    /// Where the HTTP server listens (`BIND_ADDR`, port overridden by `PORT`).
    pub bind_addr: SocketAddr,
    /// Folder for the SQLite database, the outbox and generated secrets (`DATA_DIR`).
    pub data_dir: PathBuf,
    /// The database to use; its scheme picks the backend (`DATABASE_URL`).
    pub database_url: DatabaseUrl,
    /// Maximum connections in the database pool (`DATABASE_POOL_SIZE`).
    pub database_pool_size: u32,
    /// Key that signs access tokens (`JWT_SECRET`).
    pub jwt_secret: Secret,
    /// Lifetime of an access token (`JWT_EXPIRATION_MINUTES`).
    pub jwt_expiration: Duration,
    /// Browser origins allowed to call the API (`CORS_ORIGINS`, comma-separated).
    pub cors_origins: Vec<String>,
    /// App secret that signs Meta's webhook deliveries (`META_APP_SECRET`).
    pub meta_app_secret: Option<Secret>,
    /// Token Meta echoes in the webhook handshake (`META_VERIFY_TOKEN`).
    pub meta_verify_token: Option<Secret>,
    /// Base URL of Meta's Graph API (`META_GRAPH_URL`).
    pub meta_graph_url: String,
    /// Base URL of an OpenAI-compatible Chat Completions API (`AI_BASE_URL`).
    pub ai_base_url: String,
    /// Key for the AI provider (`AI_API_KEY`).
    pub ai_api_key: Option<Secret>,
    /// Default model for the AI responder (`AI_MODEL`).
    pub ai_model: String,
    /// System prompt for AI channels without one of their own, read from the file named by
    /// `AI_SYSTEM_PROMPT_FILE`.
    pub ai_system_prompt: String,
    /// Longest one provider call may take (`AI_TIMEOUT_MS`).
    pub ai_timeout: Duration,
    /// Longest one Graph API call may take (`META_TIMEOUT_MS`).
    pub meta_timeout: Duration,
    /// Longest one SMTP try may take, connecting to the end of the data (`SMTP_TIMEOUT_MS`).
    pub smtp_timeout: Duration,
    /// Tries per answer before the chat goes to a human (`AI_MAX_ATTEMPTS`).
    pub ai_max_attempts: u32,
    /// First backoff between provider tries (`AI_RETRY_BASE_MS`).
    pub ai_retry_base: Duration,
    /// How long the responder waits for more customer messages before answering (`AI_COALESCE_MS`).
    pub ai_coalesce: Duration,
    /// Approximate tokens of chat history sent with each request (`AI_HISTORY_TOKENS`).
    pub ai_history_tokens: usize,
    /// Keys sealing secrets at rest (`SECRETS_KEY`, `SECRETS_KEY_OLD`).
    pub secrets: crate::secrets::Keyring,
    /// Whether Messenger and Instagram customers' names and pictures are looked up from Meta
    /// (`PROFILE_LOOKUPS`).
    pub profile_lookups: bool,
    /// How often contacts whose Meta profile is due are looked up (`PROFILE_SWEEP_MS`).
    pub profile_sweep: Duration,
    /// Wait after a failed profile lookup, doubling each time up to a day (`PROFILE_RETRY_MS`).
    pub profile_retry: Duration,
    /// How often lead imports and analyses waiting for work are looked for (`LEAD_SWEEP_MS`).
    pub lead_sweep: Duration,
    /// Whether imported leads are analysed by the AI provider (`LEAD_ANALYSIS`).
    pub lead_analysis: bool,
    /// How long an import or analysis a process took is its own before another process may
    /// continue it, as after a crash (`LEAD_LEASE_MS`).
    pub lead_lease: Duration,
    /// Lead analyses in flight at once, per process (`LEAD_ANALYSIS_CONCURRENCY`).
    pub lead_analysis_concurrency: usize,
    /// Analyses of one lead before it is left unanalysed with the reason
    /// (`LEAD_ANALYSIS_ATTEMPTS`).
    pub lead_analysis_attempts: i32,
    /// Wait after a failed analysis, doubling each time (`LEAD_ANALYSIS_RETRY_MS`).
    pub lead_analysis_retry: Duration,
    /// Longest one outgoing webhook delivery may take (`WEBHOOK_TIMEOUT_MS`).
    pub webhook_timeout: Duration,
    /// First backoff between outgoing webhook tries (`WEBHOOK_RETRY_BASE_MS`).
    pub webhook_retry_base: Duration,
    /// How long a failing outgoing webhook delivery is retried before it is a dead letter
    /// (`WEBHOOK_RETRY_FOR_SECONDS`).
    pub webhook_retry_for: Duration,
    /// SMTP server for outgoing mail; none means mail goes to `DATA_DIR/outbox` (`SMTP_URL`).
    pub smtp_url: Option<Secret>,
    /// Sender address of outgoing mail (`MAIL_FROM`).
    pub mail_from: String,
    /// Base URL of the dashboard, used in links sent by mail (`FRONTEND_BASE_URL`).
    pub frontend_base_url: String,
    /// Redis for relaying events between hub processes (`REDIS_URL`).
    pub redis_url: Option<Secret>,
    /// Key that signs what hub processes tell each other through Redis; derived from
    /// `JWT_SECRET` when absent (`RELAY_SECRET`).
    pub relay_secret: Option<Secret>,
    /// Log line format (`LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Largest accepted request body in bytes (`MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Longest a request may take before it is answered with an error (`REQUEST_TIMEOUT_SECONDS`).
    pub request_timeout: Duration,
    /// Email of the first admin, created on the first start (`ADMIN_EMAIL`).
    pub admin_email: String,
    /// Password of the first admin; generated and logged once when absent (`ADMIN_PASSWORD`).
    pub admin_password: Option<Secret>,
    /// How long a password reset link stays valid (`PASSWORD_RESET_TTL_MINUTES`).
    pub password_reset_ttl: Duration,
    /// Login attempts per client IP (`LOGIN_LIMIT_PER_IP`, `count/seconds`).
    pub login_limit_per_ip: Limit,
    /// Login attempts per email (`LOGIN_LIMIT_PER_EMAIL`).
    pub login_limit_per_email: Limit,
    /// Password reset requests per client IP (`RESET_LIMIT_PER_IP`).
    pub reset_limit_per_ip: Limit,
    /// Password reset requests per email (`RESET_LIMIT_PER_EMAIL`).
    pub reset_limit_per_email: Limit,
    /// Password hashes computed at once (`HASH_CONCURRENCY`, default: the number of cores).
    pub hash_concurrency: usize,
    /// How long a login waits for a hashing slot before it is answered 503 (`HASH_WAIT_MS`).
    pub hash_wait: Duration,
    /// Most commands the store commits in one transaction (`STORE_MAX_BATCH`; 1 turns group commit off).
    pub store_max_batch: usize,
    /// Writer threads committing groups on PostgreSQL (`STORE_WRITERS`); SQLite and MySQL
    /// always use one.
    pub store_writers: usize,
    /// How long a disconnected agent still counts as online (`PRESENCE_GRACE_SECONDS`).
    pub presence_grace: Duration,
    /// Whether an agent who stays away has their open chats put back in the queue
    /// (`ASSIGN_REQUEUE_OFFLINE`).
    pub requeue_offline: bool,
    /// How long after their last connection dropped an agent's open chats go back to the queue
    /// (`ASSIGN_REQUEUE_AFTER_SECONDS`; at least the presence grace period).
    pub requeue_after: Duration,
    /// How long one WebSocket frame may wait to go out before the client is cut off
    /// (`WS_SEND_TIMEOUT_MS`).
    pub ws_send_timeout: Duration,
    /// Frames one WebSocket connection may have waiting before the client must resync
    /// (`WS_QUEUE_FRAMES`).
    pub ws_queue_frames: usize,
    /// Widget calls (sessions and messages) per client IP (`WIDGET_LIMIT_PER_IP`).
    pub widget_limit_per_ip: Limit,
    /// Widget messages per visitor session (`WIDGET_LIMIT_PER_SESSION`).
    pub widget_limit_per_session: Limit,
    /// Retries of outbound deliveries (`OUTBOUND_MAX_ATTEMPTS`, `OUTBOUND_RETRY_BASE_MS`).
    pub outbound_backoff: crate::retry::Backoff,
    /// Proxies whose forwarding headers name the client (`TRUSTED_PROXIES`, address ranges).
    pub trusted_proxies: Vec<crate::net::Cidr>,
    /// Bearer token that opens `/metrics`; without it `/metrics` answers 404 (`METRICS_TOKEN`).
    pub metrics_token: Option<Secret>,
    /// Bearer token of the operator's platform API; without it that API answers 404
    /// (`PLATFORM_TOKEN`).
    pub platform_token: Option<Secret>,
    /// Whether anyone may create an account by signing up (`SIGNUP=open`).
    pub signup_open: bool,
    /// Sign-ups per client IP (`SIGNUP_LIMIT_PER_IP`).
    pub signup_limit_per_ip: Limit,
    /// Sign-ups per email (`SIGNUP_LIMIT_PER_EMAIL`).
    pub signup_limit_per_email: Limit,
    /// Messages one API channel takes per window (`API_CHANNEL_LIMIT`).
    pub api_channel_limit: Limit,
    /// Hosts outgoing webhooks may reach although they resolve to private addresses
    /// (`WEBHOOK_ALLOW_PRIVATE_HOSTS`, comma-separated host names).
    pub webhook_allow_private_hosts: Vec<String>,
    /// Typing frames one connection may send per window (`TYPING_LIMIT`).
    pub typing_limit: Limit,
    /// Widget polls per visitor session (`WIDGET_POLL_LIMIT_PER_SESSION`).
    pub widget_poll_limit_per_session: Limit,
    /// Widget polls per client IP, whatever their sessions (`WIDGET_POLL_LIMIT_PER_IP`).
    pub widget_poll_limit_per_ip: Limit,
    /// Where media is kept, its limits and how inbound attachments are fetched.
    pub media: MediaConfig,
}

/// Every section's settings, in the order the README lists them. The environment, `.env` and
/// the TOML files are read for these names only.
pub const SECTIONS: &[Section] = &[
    server::SECTION,
    database::SECTION,
    auth::SECTION,
    platform::SECTION,
    meta::SECTION,
    ai::SECTION,
    leads::SECTION,
    webhooks::SECTION,
    mail::SECTION,
    media::SECTION,
    cluster::SECTION,
    realtime::SECTION,
    widget::SECTION,
];

/// Every declared setting.
pub fn settings() -> impl Iterator<Item = &'static Setting> {
    SECTIONS.iter().flat_map(|s| s.settings)
}

/// The declaration of `name`; an error names a setting the code reads but nobody declared.
fn declared(name: &str) -> Result<&'static Setting, ConfigError> {
    settings()
        .find(|s| s.name == name)
        .ok_or_else(|| ConfigError::new(name, "is not a declared setting"))
}

/// Whether `name` (in upper case) is a declared setting.
fn is_declared(name: &str) -> bool {
    settings().any(|s| s.name == name)
}

impl RawSettings {
    /// Reads the layered sources from `dir` (the `config/` folder), the `.env` file and the process environment.
    pub fn load(config_dir: &Path, dotenv: &Path) -> Result<Self, ConfigError> {
        Self::load_with(config_dir, dotenv, std::env::vars().collect())
    }

    /// Like `load`, with the given variables standing for the process environment.
    pub fn load_with(
        config_dir: &Path,
        dotenv: &Path,
        process: BTreeMap<String, String>,
    ) -> Result<Self, ConfigError> {
        Self::load_from(Some(config_dir), dotenv, process, &mut Vec::new())
    }

    /// Reads the TOML files of `config_dir` (none without one), `.env` and `process`, in that
    /// order; adds each file it read to `read`.
    fn load_from(
        config_dir: Option<&Path>,
        dotenv: &Path,
        process: BTreeMap<String, String>,
        read: &mut Vec<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let mut raw = Self::default();
        if let Some(dir) = config_dir {
            raw.merge_toml_file(&dir.join("default.toml"), read)?;
        }
        let env_name = process
            .get("SWITCHBOARD_ENV")
            .cloned()
            .or_else(|| read_dotenv(dotenv).ok()?.remove("SWITCHBOARD_ENV"))
            .or_else(|| raw.0.get("SWITCHBOARD_ENV").cloned());
        if let (Some(dir), Some(name)) = (config_dir, env_name.filter(|n| !n.is_empty())) {
            raw.merge_toml_file(&dir.join(format!("{name}.toml")), read)?;
        }
        if dotenv.exists() {
            raw.merge(read_dotenv(dotenv)?);
            read.push(dotenv.to_path_buf());
        }
        raw.merge(process);
        Ok(raw)
    }

    /// Builds raw settings from explicit pairs (tests, embedding).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut raw = Self::default();
        raw.merge(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        raw
    }

    /// Sets one value, replacing what was there.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.0.insert(key.to_ascii_uppercase(), value.into());
    }

    fn merge(&mut self, values: impl IntoIterator<Item = (String, String)>) {
        for (key, value) in values {
            let key = key.to_ascii_uppercase();
            if is_declared(&key) {
                self.0.insert(key, value);
            }
        }
    }

    fn merge_toml_file(&mut self, path: &Path, read: &mut Vec<PathBuf>) -> Result<(), ConfigError> {
        let name = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(ConfigError::new(&name, e.to_string())),
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::new(&name, e.message().to_string()))?;
        let mut values = Vec::new();
        for (key, value) in table {
            let upper = key.to_ascii_uppercase();
            if !is_declared(&upper) {
                return Err(ConfigError::new(&name, format!("unknown setting '{key}'")));
            }
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Array(items) => items
                    .iter()
                    .map(|i| match i {
                        toml::Value::String(s) => s.clone(),
                        other => format!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
                    .join(","),
                other => {
                    return Err(ConfigError::new(
                        &name,
                        format!("'{key}' has an unsupported value {other:?}"),
                    ))
                }
            };
            values.push((upper, text));
        }
        self.merge(values);
        read.push(path.to_path_buf());
        Ok(())
    }
}

/// Reads a `.env` file; a line that cannot be read is reported with the file, its line
/// number and the setting it names.
fn read_dotenv(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let file = path.display().to_string();
    let iter = dotenvy::from_path_iter(path).map_err(|e| ConfigError::new(&file, e.to_string()))?;
    iter.map(|item| item.map_err(|e| dotenv_error(path, &file, e)))
        .collect()
}

fn dotenv_error(path: &Path, file: &str, error: dotenvy::Error) -> ConfigError {
    let dotenvy::Error::LineParse(line, _) = error else {
        return ConfigError::new(file, error.to_string());
    };
    // The parser reports the text it stopped at; find the line of the file that holds it.
    let fragment = line.lines().next().unwrap_or_default().trim();
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let found = text
        .lines()
        .enumerate()
        .find(|(_, l)| !l.trim_start().starts_with('#') && l.contains(fragment));
    let (number, setting) = match found {
        Some((i, l)) => (
            format!(" line {}", i + 1),
            l.trim()
                .trim_start_matches("export ")
                .split('=')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
        ),
        None => (String::new(), fragment.to_string()),
    };
    ConfigError::new(
        &format!("{file}{number}: {setting}"),
        "cannot be read; put a value with spaces or <> in double quotes, \
         for example MAIL_FROM=\"Support <help@example.com>\"",
    )
}

/// The setting naming the folder of the TOML files.
const CONFIG_DIR: &str = "SWITCHBOARD_CONFIG_DIR";

/// The folder of the TOML files: `SWITCHBOARD_CONFIG_DIR` (from the environment or `.env`), else
/// `config/` in the working folder when there is one, else `config/` beside the binary `exe`,
/// then in the binary's parent folder (`/opt/switchboard/bin/switchboard` reads
/// `/opt/switchboard/config`). None when there is no such folder; a named folder that does
/// not exist is an error.
pub fn config_dir(
    process: &BTreeMap<String, String>,
    dotenv: &Path,
    working: &Path,
    exe: Option<&Path>,
) -> Result<Option<PathBuf>, ConfigError> {
    let named = process
        .get(CONFIG_DIR)
        .cloned()
        .or_else(|| read_dotenv(dotenv).ok()?.remove(CONFIG_DIR))
        .filter(|d| !d.trim().is_empty());
    if let Some(dir) = named {
        let dir = working.join(dir);
        if !dir.is_dir() {
            return Err(ConfigError::new(
                CONFIG_DIR,
                format!("'{}' is not a folder", dir.display()),
            ));
        }
        return Ok(Some(dir));
    }
    let beside = exe.and_then(Path::parent);
    let candidates = [
        Some(working.join("config")),
        beside.map(|b| b.join("config")),
        beside.and_then(Path::parent).map(|p| p.join("config")),
    ];
    Ok(candidates.into_iter().flatten().find(|d| d.is_dir()))
}

/// A validated configuration and where it came from, for the start-up log.
#[derive(Debug)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Every file read, in the order applied (TOML files, then `.env`).
    pub files: Vec<PathBuf>,
    /// The folder of the TOML files, when one was found.
    pub config_dir: Option<PathBuf>,
}

impl Loaded {
    /// Says in the log which files were read, and warns when no TOML file was.
    pub fn log(&self) {
        let files = self
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let tomls = self
            .files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "toml"));
        match (&self.config_dir, tomls) {
            (Some(_), true) => tracing::info!(files = %files, "configuration read from {files}"),
            (Some(dir), false) => tracing::warn!(
                config_dir = %dir.display(),
                "no configuration file in {}: built-in defaults, .env and the environment apply",
                dir.display()
            ),
            (None, _) => tracing::warn!(
                "no config folder found (SWITCHBOARD_CONFIG_DIR, ./config, config/ beside the \
                 binary or in its parent folder): built-in defaults, .env and the environment apply"
            ),
        }
    }
}

impl Config {
    /// Loads and validates the configuration of this process from its usual sources, with the
    /// config folder found by [`config_dir`].
    pub fn load() -> Result<Loaded, ConfigError> {
        let process: BTreeMap<String, String> = std::env::vars().collect();
        let dotenv = Path::new(".env");
        let working = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let exe = std::env::current_exe().ok();
        let config_dir = config_dir(&process, dotenv, &working, exe.as_deref())?;
        let mut files = Vec::new();
        let raw = RawSettings::load_from(config_dir.as_deref(), dotenv, process, &mut files)?;
        Ok(Loaded {
            config: Self::from_raw(&raw)?,
            files,
            config_dir,
        })
    }

    /// Validates raw settings; the first problem found is returned, naming its setting.
    pub fn from_raw(raw: &RawSettings) -> Result<Self, ConfigError> {
        let environment = server::environment(raw)?;
        let bind_addr = server::bind_addr(raw)?;
        let data_dir = PathBuf::from(raw.text("DATA_DIR")?);
        Ok(Self {
            environment,
            bind_addr,
            database_url: database::url(raw, &data_dir)?,
            database_pool_size: raw.number("DATABASE_POOL_SIZE")?,
            jwt_secret: auth::jwt_secret(raw, environment, &data_dir)?,
            jwt_expiration: raw.minutes("JWT_EXPIRATION_MINUTES")?,
            cors_origins: server::cors_origins(raw)?,
            log_format: server::log_format(raw)?,
            smtp_url: mail::smtp_url(raw)?,
            redis_url: cluster::redis_url(raw)?,
            relay_secret: cluster::relay_secret(raw)?,
            trusted_proxies: server::trusted_proxies(raw)?,
            metrics_token: server::metrics_token(raw)?,
            platform_token: platform::platform_token(raw)?,
            signup_open: platform::signup_open(raw)?,
            signup_limit_per_ip: raw.limit("SIGNUP_LIMIT_PER_IP")?,
            signup_limit_per_email: raw.limit("SIGNUP_LIMIT_PER_EMAIL")?,
            api_channel_limit: raw.limit("API_CHANNEL_LIMIT")?,
            webhook_allow_private_hosts: webhooks::allow_private_hosts(raw),
            typing_limit: raw.limit("TYPING_LIMIT")?,
            widget_poll_limit_per_session: raw.limit("WIDGET_POLL_LIMIT_PER_SESSION")?,
            widget_poll_limit_per_ip: raw.limit("WIDGET_POLL_LIMIT_PER_IP")?,
            meta_app_secret: raw.secret("META_APP_SECRET")?,
            meta_verify_token: raw.secret("META_VERIFY_TOKEN")?,
            meta_graph_url: raw.url("META_GRAPH_URL")?,
            ai_base_url: raw.url("AI_BASE_URL")?,
            ai_api_key: raw.secret("AI_API_KEY")?,
            ai_model: raw.text("AI_MODEL")?,
            ai_system_prompt: ai::system_prompt(raw)?,
            ai_timeout: raw.millis("AI_TIMEOUT_MS")?,
            meta_timeout: raw.millis("META_TIMEOUT_MS")?,
            smtp_timeout: raw.millis("SMTP_TIMEOUT_MS")?,
            ai_max_attempts: raw.number("AI_MAX_ATTEMPTS")?,
            ai_retry_base: raw.millis("AI_RETRY_BASE_MS")?,
            ai_coalesce: raw.millis("AI_COALESCE_MS")?,
            ai_history_tokens: raw.number("AI_HISTORY_TOKENS")?,
            secrets: ai::keyring(raw)?,
            profile_lookups: raw.flag("PROFILE_LOOKUPS")?,
            profile_sweep: raw.millis("PROFILE_SWEEP_MS")?,
            profile_retry: raw.millis("PROFILE_RETRY_MS")?,
            lead_sweep: raw.millis("LEAD_SWEEP_MS")?,
            lead_analysis: raw.flag("LEAD_ANALYSIS")?,
            lead_lease: raw.millis("LEAD_LEASE_MS")?,
            lead_analysis_concurrency: raw.number("LEAD_ANALYSIS_CONCURRENCY")?,
            lead_analysis_attempts: raw.number("LEAD_ANALYSIS_ATTEMPTS")?,
            lead_analysis_retry: raw.millis("LEAD_ANALYSIS_RETRY_MS")?,
            webhook_timeout: raw.millis("WEBHOOK_TIMEOUT_MS")?,
            webhook_retry_base: raw.millis("WEBHOOK_RETRY_BASE_MS")?,
            webhook_retry_for: raw.seconds("WEBHOOK_RETRY_FOR_SECONDS")?,
            mail_from: raw.text("MAIL_FROM")?,
            frontend_base_url: raw.url("FRONTEND_BASE_URL")?,
            max_body_bytes: raw.number("MAX_BODY_BYTES")?,
            request_timeout: raw.seconds("REQUEST_TIMEOUT_SECONDS")?,
            admin_email: auth::admin_email(raw)?,
            admin_password: raw.secret("ADMIN_PASSWORD")?,
            password_reset_ttl: raw.minutes("PASSWORD_RESET_TTL_MINUTES")?,
            login_limit_per_ip: raw.limit("LOGIN_LIMIT_PER_IP")?,
            login_limit_per_email: raw.limit("LOGIN_LIMIT_PER_EMAIL")?,
            reset_limit_per_ip: raw.limit("RESET_LIMIT_PER_IP")?,
            reset_limit_per_email: raw.limit("RESET_LIMIT_PER_EMAIL")?,
            hash_concurrency: auth::hash_concurrency(raw)?,
            hash_wait: raw.millis("HASH_WAIT_MS")?,
            presence_grace: raw.seconds("PRESENCE_GRACE_SECONDS")?,
            requeue_offline: raw.flag("ASSIGN_REQUEUE_OFFLINE")?,
            requeue_after: raw.seconds("ASSIGN_REQUEUE_AFTER_SECONDS")?,
            ws_send_timeout: raw.millis("WS_SEND_TIMEOUT_MS")?,
            ws_queue_frames: raw.number("WS_QUEUE_FRAMES")?,
            store_max_batch: raw.number("STORE_MAX_BATCH")?,
            store_writers: raw.number("STORE_WRITERS")?,
            widget_limit_per_ip: raw.limit("WIDGET_LIMIT_PER_IP")?,
            widget_limit_per_session: raw.limit("WIDGET_LIMIT_PER_SESSION")?,
            outbound_backoff: meta::outbound_backoff(raw)?,
            media: media::media(raw, &data_dir)?,
            data_dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = std::env::temp_dir().join(format!("sb-config-{}", crate::tokens::random_hex(6)));
        let data = dir.display().to_string();
        let mut raw = RawSettings::from_pairs(pairs.iter().copied());
        raw.set("DATA_DIR", data);
        Config::from_raw(&raw)
    }

    fn error_of(pairs: &[(&str, &str)]) -> String {
        match config(pairs) {
            Ok(_) => panic!("expected {pairs:?} to be rejected"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_give_sqlite_in_the_data_folder_on_port_8080() {
        let c = config(&[]).unwrap();
        assert_eq!(c.bind_addr.port(), 8080);
        assert!(matches!(c.database_url, DatabaseUrl::Sqlite(_)));
        assert_eq!(c.environment, Environment::Development);
    }

    #[test]
    fn port_overrides_the_bind_port() {
        let c = config(&[("BIND_ADDR", "127.0.0.1:9000"), ("PORT", "7001")]).unwrap();
        assert_eq!(c.bind_addr.to_string(), "127.0.0.1:7001");
    }

    #[test]
    fn bad_values_name_their_setting() {
        assert!(error_of(&[("DATABASE_URL", "ftp://x")]).contains("DATABASE_URL"));
        assert!(error_of(&[("PORT", "eighty")]).contains("PORT"));
        assert!(
            error_of(&[("SWITCHBOARD_ENV", "production"), ("JWT_SECRET", "short")])
                .contains("JWT_SECRET")
        );
        assert!(error_of(&[("SWITCHBOARD_ENV", "production")]).contains("JWT_SECRET"));
        assert!(error_of(&[("LOG_FORMAT", "xml")]).contains("LOG_FORMAT"));
        assert!(error_of(&[("SMTP_URL", "mail.example.com")]).contains("SMTP_URL"));
        assert!(error_of(&[("MAX_BODY_BYTES", "0")]).contains("MAX_BODY_BYTES"));
        assert!(error_of(&[("TRUSTED_PROXIES", "10.0.0.0/99")]).contains("TRUSTED_PROXIES"));
        assert!(error_of(&[("METRICS_TOKEN", "short")]).contains("METRICS_TOKEN"));
    }

    #[test]
    fn secrets_print_as_stars() {
        let c = config(&[("JWT_SECRET", "0123456789abcdef0123456789abcdef-very-secret")]).unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("very-secret"));
        assert!(printed.contains("***"));
    }

    #[test]
    fn the_example_dotenv_is_accepted_as_it_is() {
        let dir = std::env::temp_dir().join(format!("sb-example-{}", crate::tokens::random_hex(6)));
        std::fs::create_dir_all(&dir).unwrap();
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join(".env_example");
        let values = read_dotenv(&example).unwrap();
        assert_eq!(
            values.get("MAIL_FROM").map(String::as_str),
            Some("Switchboard <no-reply@example.com>")
        );
        let mut raw = RawSettings::default();
        raw.merge(values);
        raw.set("DATA_DIR", dir.display().to_string());
        Config::from_raw(&raw).unwrap();
    }

    #[test]
    fn a_bad_dotenv_line_is_named_by_file_line_and_setting() {
        let dir = std::env::temp_dir().join(format!("sb-dotenv-{}", crate::tokens::random_hex(6)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".env");
        std::fs::write(
            &path,
            "# mail\nLOG_FORMAT=text\nMAIL_FROM=Switchboard <no-reply@example.com>\n",
        )
        .unwrap();
        let err = read_dotenv(&path).unwrap_err().to_string();
        assert!(err.contains(".env line 3: MAIL_FROM"), "{err}");
        assert!(err.contains("double quotes"), "{err}");
    }

    #[test]
    fn the_config_folder_is_the_named_one_then_the_working_one_then_beside_the_binary() {
        let root =
            std::env::temp_dir().join(format!("sb-confdir-{}", crate::tokens::random_hex(6)));
        let (working, install) = (root.join("work"), root.join("opt"));
        std::fs::create_dir_all(working.join("elsewhere")).unwrap();
        std::fs::create_dir_all(install.join("bin")).unwrap();
        let exe = install.join("bin").join("switchboard");
        let dotenv = working.join(".env");
        let none = BTreeMap::new();
        let find =
            |process: &BTreeMap<String, String>| config_dir(process, &dotenv, &working, Some(&exe));
        assert_eq!(find(&none).unwrap(), None, "no folder anywhere");
        std::fs::create_dir_all(install.join("config")).unwrap();
        assert_eq!(
            find(&none).unwrap(),
            Some(install.join("config")),
            "the binary's parent folder"
        );
        std::fs::create_dir_all(install.join("bin").join("config")).unwrap();
        assert_eq!(
            find(&none).unwrap(),
            Some(install.join("bin").join("config")),
            "beside the binary"
        );
        std::fs::create_dir_all(working.join("config")).unwrap();
        assert_eq!(
            find(&none).unwrap(),
            Some(working.join("config")),
            "the working folder's"
        );
        let named = BTreeMap::from([(CONFIG_DIR.to_string(), "elsewhere".to_string())]);
        assert_eq!(
            find(&named).unwrap(),
            Some(working.join("elsewhere")),
            "the named folder, relative to the working folder"
        );
        std::fs::write(&dotenv, "SWITCHBOARD_CONFIG_DIR=elsewhere\n").unwrap();
        assert_eq!(
            find(&none).unwrap(),
            Some(working.join("elsewhere")),
            ".env names it too"
        );
        let missing = BTreeMap::from([(CONFIG_DIR.to_string(), "nowhere".to_string())]);
        let err = find(&missing).unwrap_err().to_string();
        assert!(
            err.contains("SWITCHBOARD_CONFIG_DIR") && err.contains("nowhere"),
            "{err}"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn toml_layers_then_dotenv_then_environment() {
        let dir = std::env::temp_dir().join(format!("sb-layers-{}", crate::tokens::random_hex(6)));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("default.toml"),
            "bind_addr = \"127.0.0.1:1000\"\nai_model = \"a\"\nmail_from = \"x@y\"\n",
        )
        .unwrap();
        std::fs::write(dir.join(".env"), "AI_MODEL=b\nMAIL_FROM=\"d <d@e>\"\n").unwrap();
        let process = BTreeMap::from([("AI_MODEL".to_string(), "c".to_string())]);
        let raw = RawSettings::load_with(&dir, &dir.join(".env"), BTreeMap::new()).unwrap();
        assert_eq!(raw.get("BIND_ADDR"), Some("127.0.0.1:1000"), "TOML");
        assert_eq!(raw.get("AI_MODEL"), Some("b"), ".env over TOML");
        assert_eq!(raw.get("MAIL_FROM"), Some("d <d@e>"));
        let raw = RawSettings::load_with(&dir, &dir.join(".env"), process).unwrap();
        assert_eq!(raw.get("AI_MODEL"), Some("c"), "the environment over .env");
        std::fs::write(dir.join("default.toml"), "no_such_setting = 1\n").unwrap();
        let err = RawSettings::load_with(&dir, &dir.join(".env"), BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("no_such_setting"));
    }
}
