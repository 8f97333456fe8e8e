//! Settings: `config/default.toml` <- `config/$SWITCHBOARD_ENV.toml` <- `.env` <- environment, validated once;
//! the `config/` folder is found by [`config_dir`].

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ratelimit::Limit;
use crate::store::connection::DatabaseUrl;

/// A value that must never reach a log: it prints as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Which set of defaults and checks applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    /// Local work: a missing JWT secret is generated and kept in the data folder.
    Development,
    /// Automated tests.
    Test,
    /// A deployment: secrets must be set explicitly.
    Production,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A setting that could not be accepted, named so an operator can fix it.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {setting}: {problem}")]
pub struct ConfigError {
    /// The setting's name as it is written in the environment.
    pub setting: String,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    fn new(setting: &str, problem: impl Into<String>) -> Self {
        Self {
            setting: setting.to_string(),
            problem: problem.into(),
        }
    }
}

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
    /// Hosts outgoing webhooks may reach although they resolve to private addresses
    /// (`WEBHOOK_ALLOW_PRIVATE_HOSTS`, comma-separated host names).
    pub webhook_allow_private_hosts: Vec<String>,
    /// Typing frames one connection may send per window (`TYPING_LIMIT`).
    pub typing_limit: Limit,
    /// Widget polls per visitor session (`WIDGET_POLL_LIMIT_PER_SESSION`).
    pub widget_poll_limit_per_session: Limit,
    /// Widget polls per client IP, whatever their sessions (`WIDGET_POLL_LIMIT_PER_IP`).
    pub widget_poll_limit_per_ip: Limit,
}

/// Names of every setting, so the environment and `.env` are read for these only.
pub const SETTINGS: &[&str] = &[
    "SWITCHBOARD_ENV",
    "BIND_ADDR",
    "PORT",
    "DATA_DIR",
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
    "JWT_SECRET",
    "JWT_EXPIRATION_MINUTES",
    "CORS_ORIGINS",
    "META_APP_SECRET",
    "META_VERIFY_TOKEN",
    "META_GRAPH_URL",
    "META_TIMEOUT_MS",
    "SMTP_TIMEOUT_MS",
    "AI_BASE_URL",
    "AI_API_KEY",
    "AI_MODEL",
    "AI_SYSTEM_PROMPT_FILE",
    "AI_TIMEOUT_MS",
    "AI_MAX_ATTEMPTS",
    "AI_RETRY_BASE_MS",
    "AI_COALESCE_MS",
    "AI_HISTORY_TOKENS",
    "PROFILE_LOOKUPS",
    "PROFILE_SWEEP_MS",
    "PROFILE_RETRY_MS",
    "LEAD_SWEEP_MS",
    "LEAD_ANALYSIS",
    "LEAD_LEASE_MS",
    "LEAD_ANALYSIS_CONCURRENCY",
    "LEAD_ANALYSIS_ATTEMPTS",
    "LEAD_ANALYSIS_RETRY_MS",
    "WEBHOOK_TIMEOUT_MS",
    "WEBHOOK_RETRY_BASE_MS",
    "WEBHOOK_RETRY_FOR_SECONDS",
    "SMTP_URL",
    "MAIL_FROM",
    "FRONTEND_BASE_URL",
    "REDIS_URL",
    "RELAY_SECRET",
    "LOG_FORMAT",
    "MAX_BODY_BYTES",
    "REQUEST_TIMEOUT_SECONDS",
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
    "PASSWORD_RESET_TTL_MINUTES",
    "LOGIN_LIMIT_PER_IP",
    "LOGIN_LIMIT_PER_EMAIL",
    "RESET_LIMIT_PER_IP",
    "RESET_LIMIT_PER_EMAIL",
    "HASH_CONCURRENCY",
    "HASH_WAIT_MS",
    "OUTBOUND_MAX_ATTEMPTS",
    "WIDGET_LIMIT_PER_IP",
    "STORE_MAX_BATCH",
    "STORE_WRITERS",
    "PRESENCE_GRACE_SECONDS",
    "ASSIGN_REQUEUE_OFFLINE",
    "ASSIGN_REQUEUE_AFTER_SECONDS",
    "WS_SEND_TIMEOUT_MS",
    "WS_QUEUE_FRAMES",
    "WIDGET_LIMIT_PER_SESSION",
    "OUTBOUND_RETRY_BASE_MS",
    "TRUSTED_PROXIES",
    "METRICS_TOKEN",
    "WEBHOOK_ALLOW_PRIVATE_HOSTS",
    "TYPING_LIMIT",
    "WIDGET_POLL_LIMIT_PER_SESSION",
    "WIDGET_POLL_LIMIT_PER_IP",
];

/// Shortest JWT secret accepted in production, in bytes.
const MIN_JWT_SECRET_LEN: usize = 32;

/// The merged raw values, before validation.
#[derive(Clone, Debug, Default)]
pub struct RawSettings(BTreeMap<String, String>);

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
            if SETTINGS.contains(&key.as_str()) {
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
            if !SETTINGS.contains(&upper.as_str()) {
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

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
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
        let environment = match raw.get("SWITCHBOARD_ENV").unwrap_or("development") {
            "development" | "dev" => Environment::Development,
            "test" => Environment::Test,
            "production" | "prod" => Environment::Production,
            other => {
                return Err(ConfigError::new(
                    "SWITCHBOARD_ENV",
                    format!("'{other}' is not one of development, test, production"),
                ))
            }
        };
        let mut bind_addr: SocketAddr = raw
            .get("BIND_ADDR")
            .unwrap_or("0.0.0.0:8080")
            .parse()
            .map_err(|_| ConfigError::new("BIND_ADDR", "expected an address like 0.0.0.0:8080"))?;
        if let Some(port) = raw.get("PORT") {
            let port: u16 = port.trim().parse().map_err(|_| {
                ConfigError::new("PORT", format!("'{port}' is not a port number (0-65535)"))
            })?;
            bind_addr.set_port(port);
        }
        let data_dir = PathBuf::from(raw.get("DATA_DIR").unwrap_or("./data"));
        let database_url = match raw.get("DATABASE_URL") {
            Some(url) => DatabaseUrl::parse(url),
            None => Ok(DatabaseUrl::sqlite_file(data_dir.join("switchboard.db"))),
        }
        .map_err(|problem| ConfigError::new("DATABASE_URL", problem))?;
        let database_pool_size = parse_number(raw, "DATABASE_POOL_SIZE", 16u32, 1..=512)?;

        let jwt_secret = match raw.get("JWT_SECRET") {
            Some(s) if s.len() >= MIN_JWT_SECRET_LEN => Secret::new(s),
            Some(_) if environment == Environment::Production => {
                return Err(ConfigError::new(
                    "JWT_SECRET",
                    format!("must be at least {MIN_JWT_SECRET_LEN} characters in production"),
                ))
            }
            Some(s) => {
                tracing::warn!(
                    "JWT_SECRET is shorter than {MIN_JWT_SECRET_LEN} characters; acceptable only outside production"
                );
                Secret::new(s)
            }
            None if environment == Environment::Production => {
                return Err(ConfigError::new("JWT_SECRET", "is required in production"))
            }
            None => development_jwt_secret(&data_dir)?,
        };
        let jwt_minutes = parse_number(raw, "JWT_EXPIRATION_MINUTES", 720u64, 1..=525_600)?;

        let cors_origins = raw
            .get("CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_string())
                    .filter(|o| !o.is_empty())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for origin in &cors_origins {
            if origin != "*" && !is_http_url(origin) {
                return Err(ConfigError::new(
                    "CORS_ORIGINS",
                    format!("'{origin}' is not an origin like https://app.example.com"),
                ));
            }
        }

        let log_format = match raw.get("LOG_FORMAT").unwrap_or("text") {
            "text" | "pretty" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::new(
                    "LOG_FORMAT",
                    format!("'{other}' is not one of text, json"),
                ))
            }
        };

        let smtp_url = raw.get("SMTP_URL").map(Secret::new);
        if let Some(url) = &smtp_url {
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
        let redis_url = raw.get("REDIS_URL").map(Secret::new);
        if let Some(url) = &redis_url {
            if !url.expose().starts_with("redis://") || redis::Client::open(url.expose()).is_err() {
                return Err(ConfigError::new(
                    "REDIS_URL",
                    "expected redis://[:password@]host:port[/db] (TLS, rediss://, is not supported)",
                ));
            }
        }

        let relay_secret = raw.get("RELAY_SECRET").map(Secret::new);
        if relay_secret
            .as_ref()
            .is_some_and(|s| s.expose().len() < MIN_JWT_SECRET_LEN)
        {
            return Err(ConfigError::new(
                "RELAY_SECRET",
                format!("must be at least {MIN_JWT_SECRET_LEN} characters"),
            ));
        }

        let trusted_proxies = crate::net::parse_ranges(raw.get("TRUSTED_PROXIES").unwrap_or(""))
            .map_err(|problem| ConfigError::new("TRUSTED_PROXIES", problem))?;
        let metrics_token = raw.get("METRICS_TOKEN").map(Secret::new);
        if metrics_token
            .as_ref()
            .is_some_and(|t| t.expose().len() < 16)
        {
            return Err(ConfigError::new(
                "METRICS_TOKEN",
                "must be at least 16 characters",
            ));
        }
        let webhook_allow_private_hosts = raw
            .get("WEBHOOK_ALLOW_PRIVATE_HOSTS")
            .unwrap_or("")
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();

        Ok(Self {
            trusted_proxies,
            metrics_token,
            webhook_allow_private_hosts,
            typing_limit: parse_limit(raw, "TYPING_LIMIT", "10/5")?,
            widget_poll_limit_per_session: parse_limit(
                raw,
                "WIDGET_POLL_LIMIT_PER_SESSION",
                "120/60",
            )?,
            widget_poll_limit_per_ip: parse_limit(raw, "WIDGET_POLL_LIMIT_PER_IP", "1200/60")?,
            environment,
            bind_addr,
            data_dir,
            database_url,
            database_pool_size,
            jwt_secret,
            jwt_expiration: Duration::from_secs(jwt_minutes * 60),
            cors_origins,
            meta_app_secret: raw.get("META_APP_SECRET").map(Secret::new),
            meta_verify_token: raw.get("META_VERIFY_TOKEN").map(Secret::new),
            meta_graph_url: http_url(raw, "META_GRAPH_URL", "https://graph.facebook.com/v21.0")?,
            ai_base_url: http_url(raw, "AI_BASE_URL", "https://api.openai.com/v1")?,
            ai_api_key: raw.get("AI_API_KEY").map(Secret::new),
            ai_model: raw.get("AI_MODEL").unwrap_or("gpt-4o-mini").to_string(),
            ai_system_prompt: match raw.get("AI_SYSTEM_PROMPT_FILE") {
                Some(path) => std::fs::read_to_string(path).map_err(|e| {
                    ConfigError::new(
                        "AI_SYSTEM_PROMPT_FILE",
                        format!("cannot read '{path}': {e}"),
                    )
                })?,
                None => DEFAULT_SYSTEM_PROMPT.to_string(),
            },
            ai_timeout: Duration::from_millis(parse_number(
                raw,
                "AI_TIMEOUT_MS",
                30_000u64,
                100..=600_000,
            )?),
            meta_timeout: Duration::from_millis(parse_number(
                raw,
                "META_TIMEOUT_MS",
                15_000u64,
                100..=120_000,
            )?),
            smtp_timeout: Duration::from_millis(parse_number(
                raw,
                "SMTP_TIMEOUT_MS",
                30_000u64,
                100..=120_000,
            )?),
            ai_max_attempts: parse_number(raw, "AI_MAX_ATTEMPTS", 4u32, 1..=20)?,
            ai_retry_base: Duration::from_millis(parse_number(
                raw,
                "AI_RETRY_BASE_MS",
                500u64,
                1..=60_000,
            )?),
            ai_coalesce: Duration::from_millis(parse_number(
                raw,
                "AI_COALESCE_MS",
                1_500u64,
                0..=60_000,
            )?),
            ai_history_tokens: parse_number(raw, "AI_HISTORY_TOKENS", 3_000usize, 100..=1_000_000)?,
            profile_lookups: parse_bool(raw, "PROFILE_LOOKUPS", true)?,
            profile_sweep: Duration::from_millis(parse_number(
                raw,
                "PROFILE_SWEEP_MS",
                30_000u64,
                50..=3_600_000,
            )?),
            profile_retry: Duration::from_millis(parse_number(
                raw,
                "PROFILE_RETRY_MS",
                60_000u64,
                50..=86_400_000,
            )?),
            lead_sweep: Duration::from_millis(parse_number(
                raw,
                "LEAD_SWEEP_MS",
                1_000u64,
                20..=3_600_000,
            )?),
            lead_analysis: parse_bool(raw, "LEAD_ANALYSIS", true)?,
            lead_lease: Duration::from_millis(parse_number(
                raw,
                "LEAD_LEASE_MS",
                120_000u64,
                200..=3_600_000,
            )?),
            lead_analysis_concurrency: parse_number(
                raw,
                "LEAD_ANALYSIS_CONCURRENCY",
                4usize,
                1..=64,
            )?,
            lead_analysis_attempts: parse_number(raw, "LEAD_ANALYSIS_ATTEMPTS", 3i32, 1..=20)?,
            lead_analysis_retry: Duration::from_millis(parse_number(
                raw,
                "LEAD_ANALYSIS_RETRY_MS",
                60_000u64,
                20..=86_400_000,
            )?),
            webhook_timeout: Duration::from_millis(parse_number(
                raw,
                "WEBHOOK_TIMEOUT_MS",
                10_000u64,
                100..=120_000,
            )?),
            webhook_retry_base: Duration::from_millis(parse_number(
                raw,
                "WEBHOOK_RETRY_BASE_MS",
                2_000u64,
                1..=3_600_000,
            )?),
            webhook_retry_for: Duration::from_secs(parse_number(
                raw,
                "WEBHOOK_RETRY_FOR_SECONDS",
                86_400u64,
                1..=2_592_000,
            )?),
            smtp_url,
            mail_from: raw
                .get("MAIL_FROM")
                .unwrap_or("Switchboard <no-reply@localhost>")
                .to_string(),
            frontend_base_url: http_url(raw, "FRONTEND_BASE_URL", "http://localhost:8080")?,
            redis_url,
            relay_secret,
            log_format,
            max_body_bytes: parse_number(raw, "MAX_BODY_BYTES", 1_048_576usize, 1024..=67_108_864)?,
            request_timeout: Duration::from_secs(parse_number(
                raw,
                "REQUEST_TIMEOUT_SECONDS",
                30u64,
                1..=3600,
            )?),
            admin_email: raw
                .get("ADMIN_EMAIL")
                .unwrap_or("admin@example.com")
                .trim()
                .to_ascii_lowercase(),
            admin_password: raw.get("ADMIN_PASSWORD").map(Secret::new),
            password_reset_ttl: Duration::from_secs(
                60 * parse_number(raw, "PASSWORD_RESET_TTL_MINUTES", 30u64, 1..=10_080)?,
            ),
            login_limit_per_ip: parse_limit(raw, "LOGIN_LIMIT_PER_IP", "30/60")?,
            login_limit_per_email: parse_limit(raw, "LOGIN_LIMIT_PER_EMAIL", "10/300")?,
            reset_limit_per_ip: parse_limit(raw, "RESET_LIMIT_PER_IP", "10/3600")?,
            reset_limit_per_email: parse_limit(raw, "RESET_LIMIT_PER_EMAIL", "3/3600")?,
            hash_concurrency: parse_number(
                raw,
                "HASH_CONCURRENCY",
                std::thread::available_parallelism().map_or(2, usize::from),
                1..=256,
            )?,
            hash_wait: Duration::from_millis(parse_number(
                raw,
                "HASH_WAIT_MS",
                2_000u64,
                1..=60_000,
            )?),
            presence_grace: Duration::from_secs(parse_number(
                raw,
                "PRESENCE_GRACE_SECONDS",
                30u64,
                0..=86_400,
            )?),
            requeue_offline: parse_bool(raw, "ASSIGN_REQUEUE_OFFLINE", true)?,
            requeue_after: Duration::from_secs(parse_number(
                raw,
                "ASSIGN_REQUEUE_AFTER_SECONDS",
                600u64,
                0..=604_800,
            )?),
            ws_send_timeout: Duration::from_millis(parse_number(
                raw,
                "WS_SEND_TIMEOUT_MS",
                10_000u64,
                10..=600_000,
            )?),
            ws_queue_frames: parse_number(raw, "WS_QUEUE_FRAMES", 4096usize, 8..=1_000_000)?,
            store_max_batch: parse_number(raw, "STORE_MAX_BATCH", 1024usize, 1..=100_000)?,
            store_writers: parse_number(raw, "STORE_WRITERS", 2usize, 1..=16)?,
            widget_limit_per_ip: parse_limit(raw, "WIDGET_LIMIT_PER_IP", "300/60")?,
            widget_limit_per_session: parse_limit(raw, "WIDGET_LIMIT_PER_SESSION", "30/60")?,
            outbound_backoff: crate::retry::backoff(
                parse_number(raw, "OUTBOUND_RETRY_BASE_MS", 1_000u64, 1..=600_000)?,
                parse_number(raw, "OUTBOUND_MAX_ATTEMPTS", 6u32, 1..=50)?,
            ),
        })
    }
}

/// The system prompt of AI channels that have none of their own.
const DEFAULT_SYSTEM_PROMPT: &str = "You are the first-line support assistant of this business. \
Answer briefly and politely in the customer's language. When you cannot help, when the customer \
asks for a person, or when the matter needs a human decision, call handoff_to_human. When the \
customer shares contact details or shows buying intent, call capture_lead.";

fn parse_bool(raw: &RawSettings, key: &str, default: bool) -> Result<bool, ConfigError> {
    match raw
        .get(key)
        .map(|t| t.trim().to_ascii_lowercase())
        .as_deref()
    {
        None => Ok(default),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some("false" | "0" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError::new(
            key,
            format!("'{other}' is not true or false"),
        )),
    }
}

fn parse_number<T>(
    raw: &RawSettings,
    key: &str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let Some(text) = raw.get(key) else {
        return Ok(default);
    };
    let value: T = text
        .trim()
        .parse()
        .map_err(|_| ConfigError::new(key, format!("'{text}' is not a whole number")))?;
    if !range.contains(&value) {
        return Err(ConfigError::new(
            key,
            format!(
                "{value} is out of range ({} to {})",
                range.start(),
                range.end()
            ),
        ));
    }
    Ok(value)
}

fn parse_limit(raw: &RawSettings, key: &str, default: &str) -> Result<Limit, ConfigError> {
    Limit::parse(raw.get(key).unwrap_or(default)).map_err(|problem| ConfigError::new(key, problem))
}

fn is_http_url(value: &str) -> bool {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    matches!(rest, Some(host) if !host.is_empty() && !host.contains(char::is_whitespace))
}

fn http_url(raw: &RawSettings, key: &str, default: &str) -> Result<String, ConfigError> {
    let value = raw.get(key).unwrap_or(default).trim().trim_end_matches('/');
    if !is_http_url(value) {
        return Err(ConfigError::new(
            key,
            format!("'{value}' is not an http:// or https:// URL"),
        ));
    }
    Ok(value.to_string())
}

/// In development a JWT secret is generated once and kept in the data folder,
/// so a restart does not log everyone out.
fn development_jwt_secret(data_dir: &Path) -> Result<Secret, ConfigError> {
    let path = data_dir.join("jwt_secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= MIN_JWT_SECRET_LEN {
            return Ok(Secret::new(existing));
        }
    }
    let secret = crate::tokens::random_hex(32);
    let problem = |e: std::io::Error| {
        ConfigError::new(
            "JWT_SECRET",
            format!("not set, and {} could not be written: {e}", path.display()),
        )
    };
    std::fs::create_dir_all(data_dir).map_err(problem)?;
    write_private_file(&path, &secret).map_err(problem)?;
    tracing::info!(path = %path.display(), "generated a development JWT secret");
    Ok(Secret::new(secret))
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())
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
    fn development_secret_is_kept_across_restarts() {
        let dir = std::env::temp_dir().join(format!("sb-jwt-{}", crate::tokens::random_hex(6)));
        let first = development_jwt_secret(&dir).unwrap();
        let second = development_jwt_secret(&dir).unwrap();
        assert_eq!(first, second);
        assert!(first.expose().len() >= MIN_JWT_SECRET_LEN);
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
