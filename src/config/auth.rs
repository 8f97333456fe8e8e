//! Sign-in settings: the token key, the first admin, password resets, hashing and login limits.

use std::path::Path;

use super::raw::{ConfigError, RawSettings, Secret};
use super::server::Environment;
use super::setting::{DefaultValue, Kind, Section, Setting};

/// The sign-in settings.
pub const SECTION: Section = Section {
    title: "Sign-in",
    settings: &[
        Setting::special(
            "JWT_SECRET",
            DefaultValue::Derived("generated in development"),
            "key for access tokens; 32+ characters, required in production",
        ),
        Setting::number(
            "JWT_EXPIRATION_MINUTES",
            "720",
            1..=525_600,
            "lifetime of an access token",
        ),
        Setting::special(
            "ADMIN_EMAIL",
            DefaultValue::Value("admin@example.com"),
            "email of the first admin, created on the first start",
        ),
        Setting::new(
            "ADMIN_PASSWORD",
            DefaultValue::Derived("generated"),
            Kind::Secret,
            "password of the first admin; generated and logged once when unset",
        ),
        Setting::number(
            "PASSWORD_RESET_TTL_MINUTES",
            "30",
            1..=10_080,
            "lifetime of a reset link (invitations: 7 days)",
        ),
        Setting::limit(
            "LOGIN_LIMIT_PER_IP",
            "30/60",
            "logins allowed per client IP and window, as `count/seconds` (429 with `Retry-After` \
             beyond)",
        ),
        Setting::limit(
            "LOGIN_LIMIT_PER_EMAIL",
            "10/300",
            "logins allowed per email and window",
        ),
        Setting::limit(
            "RESET_LIMIT_PER_IP",
            "10/3600",
            "password reset requests allowed per client IP and window",
        ),
        Setting::limit(
            "RESET_LIMIT_PER_EMAIL",
            "3/3600",
            "password reset requests allowed per email and window",
        ),
        Setting::new(
            "HASH_CONCURRENCY",
            DefaultValue::Derived("number of cores"),
            Kind::Number { min: 1, max: 256 },
            "Argon2 hashes computed at once",
        ),
        Setting::number(
            "HASH_WAIT_MS",
            "2000",
            1..=60_000,
            "how long a login waits for a hashing slot before a 503 with `Retry-After`",
        ),
    ],
};

/// Shortest JWT secret accepted in production, in bytes (and shortest relay secret).
pub(super) const MIN_JWT_SECRET_LEN: usize = 32;

/// `JWT_SECRET`: required in production; generated into the data folder in development.
pub(super) fn jwt_secret(
    raw: &RawSettings,
    environment: Environment,
    data_dir: &Path,
) -> Result<Secret, ConfigError> {
    match raw.get("JWT_SECRET") {
        Some(s) if s.len() >= MIN_JWT_SECRET_LEN => Ok(Secret::new(s)),
        Some(_) if environment == Environment::Production => Err(ConfigError::new(
            "JWT_SECRET",
            format!("must be at least {MIN_JWT_SECRET_LEN} characters in production"),
        )),
        Some(s) => {
            tracing::warn!(
                "JWT_SECRET is shorter than {MIN_JWT_SECRET_LEN} characters; acceptable only outside production"
            );
            Ok(Secret::new(s))
        }
        None if environment == Environment::Production => {
            Err(ConfigError::new("JWT_SECRET", "is required in production"))
        }
        None => development_jwt_secret(data_dir),
    }
}

/// `ADMIN_EMAIL`, trimmed and in lower case.
pub(super) fn admin_email(raw: &RawSettings) -> Result<String, ConfigError> {
    Ok(raw.value("ADMIN_EMAIL")?.trim().to_ascii_lowercase())
}

/// `HASH_CONCURRENCY`, else the number of cores.
pub(super) fn hash_concurrency(raw: &RawSettings) -> Result<usize, ConfigError> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    raw.number_or("HASH_CONCURRENCY", cores)
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

    #[test]
    fn development_secret_is_kept_across_restarts() {
        let dir = std::env::temp_dir().join(format!("sb-jwt-{}", crate::tokens::random_hex(6)));
        let first = development_jwt_secret(&dir).unwrap();
        let second = development_jwt_secret(&dir).unwrap();
        assert_eq!(first, second);
        assert!(first.expose().len() >= MIN_JWT_SECRET_LEN);
    }
}
