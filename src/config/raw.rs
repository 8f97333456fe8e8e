//! What every section reads from: the raw values before validation, the error that names a
//! setting, and secrets that never print.

use std::collections::BTreeMap;
use std::fmt;

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
    /// The error for `setting`: what is wrong with it.
    pub(crate) fn new(setting: &str, problem: impl Into<String>) -> Self {
        Self {
            setting: setting.to_string(),
            problem: problem.into(),
        }
    }
}

/// The merged raw values, before validation.
#[derive(Clone, Debug, Default)]
pub struct RawSettings(pub(super) BTreeMap<String, String>);

impl RawSettings {
    /// The value set for `key`, if it is not blank.
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

/// Whether `value` is an `http://` or `https://` URL with a host.
pub(super) fn is_http_url(value: &str) -> bool {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    matches!(rest, Some(host) if !host.is_empty() && !host.contains(char::is_whitespace))
}
