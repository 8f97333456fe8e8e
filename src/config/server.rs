//! Server settings: the environment, where to listen and store data, logs, and what HTTP accepts.

use std::net::SocketAddr;

use super::raw::{is_http_url, ConfigError, RawSettings, Secret};
use super::setting::{DefaultValue, Section, Setting};

/// The server's settings.
pub const SECTION: Section = Section {
    title: "Server",
    settings: &[
        Setting::special(
            "SWITCHBOARD_ENV",
            DefaultValue::Value("development"),
            "`development`, `test` or `production` (production requires `JWT_SECRET` and logs JSON)",
        ),
        Setting::special(
            "BIND_ADDR",
            DefaultValue::Value("0.0.0.0:8080"),
            "address to listen on",
        ),
        Setting::special(
            "PORT",
            DefaultValue::Unset,
            "overrides the port of `BIND_ADDR` (as hosting platforms set it)",
        ),
        Setting::text(
            "DATA_DIR",
            "./data",
            "SQLite database, mail outbox, generated development secret",
        ),
        Setting::special(
            "LOG_FORMAT",
            DefaultValue::Value("text"),
            "`text` or `json` (one object per line); levels via `RUST_LOG`",
        ),
        Setting::special(
            "CORS_ORIGINS",
            DefaultValue::Unset,
            "comma-separated browser origins allowed to call the API (`*` for any)",
        ),
        Setting::number(
            "MAX_BODY_BYTES",
            "1048576",
            1024..=67_108_864,
            "largest request body (413 beyond)",
        ),
        Setting::number(
            "REQUEST_TIMEOUT_SECONDS",
            "30",
            1..=3600,
            "requests running longer are answered 408",
        ),
        Setting::special(
            "TRUSTED_PROXIES",
            DefaultValue::Unset,
            "comma-separated address ranges (`10.0.0.0/8, ::1`) of load balancers whose \
             `Forwarded` / `X-Forwarded-For` name the client; from anyone else those headers are \
             ignored",
        ),
        Setting::special(
            "METRICS_TOKEN",
            DefaultValue::Unset,
            "bearer token (16+ characters) that opens `/metrics`; without it `/metrics` answers 404",
        ),
    ],
};

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

/// `SWITCHBOARD_ENV`: `development` (or `dev`), `test`, `production` (or `prod`).
pub(super) fn environment(raw: &RawSettings) -> Result<Environment, ConfigError> {
    match raw.value("SWITCHBOARD_ENV")? {
        "development" | "dev" => Ok(Environment::Development),
        "test" => Ok(Environment::Test),
        "production" | "prod" => Ok(Environment::Production),
        other => Err(ConfigError::new(
            "SWITCHBOARD_ENV",
            format!("'{other}' is not one of development, test, production"),
        )),
    }
}

/// `BIND_ADDR`, its port replaced by `PORT` when that is set.
pub(super) fn bind_addr(raw: &RawSettings) -> Result<SocketAddr, ConfigError> {
    let mut bind_addr: SocketAddr = raw
        .value("BIND_ADDR")?
        .parse()
        .map_err(|_| ConfigError::new("BIND_ADDR", "expected an address like 0.0.0.0:8080"))?;
    if let Some(port) = raw.get("PORT") {
        let port: u16 = port.trim().parse().map_err(|_| {
            ConfigError::new("PORT", format!("'{port}' is not a port number (0-65535)"))
        })?;
        bind_addr.set_port(port);
    }
    Ok(bind_addr)
}

/// `LOG_FORMAT`: `text` (or `pretty`) or `json`.
pub(super) fn log_format(raw: &RawSettings) -> Result<LogFormat, ConfigError> {
    match raw.value("LOG_FORMAT")? {
        "text" | "pretty" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(ConfigError::new(
            "LOG_FORMAT",
            format!("'{other}' is not one of text, json"),
        )),
    }
}

/// `CORS_ORIGINS`: comma-separated origins without their trailing `/`, or `*`.
pub(super) fn cors_origins(raw: &RawSettings) -> Result<Vec<String>, ConfigError> {
    let origins = raw
        .get("CORS_ORIGINS")
        .map(|v| {
            v.split(',')
                .map(|o| o.trim().trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    for origin in &origins {
        if origin != "*" && !is_http_url(origin) {
            return Err(ConfigError::new(
                "CORS_ORIGINS",
                format!("'{origin}' is not an origin like https://app.example.com"),
            ));
        }
    }
    Ok(origins)
}

/// `TRUSTED_PROXIES`: comma-separated address ranges.
pub(super) fn trusted_proxies(raw: &RawSettings) -> Result<Vec<crate::net::Cidr>, ConfigError> {
    crate::net::parse_ranges(raw.get("TRUSTED_PROXIES").unwrap_or(""))
        .map_err(|problem| ConfigError::new("TRUSTED_PROXIES", problem))
}

/// `METRICS_TOKEN`: at least 16 characters when set.
pub(super) fn metrics_token(raw: &RawSettings) -> Result<Option<Secret>, ConfigError> {
    let token = raw.get("METRICS_TOKEN").map(Secret::new);
    if token.as_ref().is_some_and(|t| t.expose().len() < 16) {
        return Err(ConfigError::new(
            "METRICS_TOKEN",
            "must be at least 16 characters",
        ));
    }
    Ok(token)
}
