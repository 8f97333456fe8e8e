//! Cluster settings: the Redis several hub processes relay events through, and its signing key.

use super::auth::MIN_JWT_SECRET_LEN;
use super::raw::{ConfigError, RawSettings, Secret};
use super::setting::{DefaultValue, Section, Setting};

/// The cluster settings.
pub const SECTION: Section = Section {
    title: "Several processes",
    settings: &[
        Setting::special(
            "REDIS_URL",
            DefaultValue::Unset,
            "`redis://[:password@]host:port[/db]`: run several hub processes on one PostgreSQL or \
             MySQL database, relaying live events, presence, typing and logouts through Redis \
             (see [Several processes](docs/operations.md#several-processes)); TLS (`rediss://`) \
             is not supported",
        ),
        Setting::special(
            "RELAY_SECRET",
            DefaultValue::Derived("derived from `JWT_SECRET`"),
            "key (32+ characters) that signs every message hub processes send each other through \
             Redis; the same on every process of one installation, different between \
             installations",
        ),
    ],
};

/// `REDIS_URL`: a `redis://` URL the Redis client accepts, when set.
pub(super) fn redis_url(raw: &RawSettings) -> Result<Option<Secret>, ConfigError> {
    let url = raw.get("REDIS_URL").map(Secret::new);
    if let Some(url) = &url {
        if !url.expose().starts_with("redis://") || redis::Client::open(url.expose()).is_err() {
            return Err(ConfigError::new(
                "REDIS_URL",
                "expected redis://[:password@]host:port[/db] (TLS, rediss://, is not supported)",
            ));
        }
    }
    Ok(url)
}

/// `RELAY_SECRET`: at least 32 characters when set.
pub(super) fn relay_secret(raw: &RawSettings) -> Result<Option<Secret>, ConfigError> {
    let secret = raw.get("RELAY_SECRET").map(Secret::new);
    if secret
        .as_ref()
        .is_some_and(|s| s.expose().len() < MIN_JWT_SECRET_LEN)
    {
        return Err(ConfigError::new(
            "RELAY_SECRET",
            format!("must be at least {MIN_JWT_SECRET_LEN} characters"),
        ));
    }
    Ok(secret)
}
