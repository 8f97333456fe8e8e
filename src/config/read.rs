//! Reading one declared setting: the value set, else its declared default, checked as declared.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::declared;
use super::raw::{is_http_url, ConfigError, RawSettings, Secret};
use super::setting::{DefaultValue, Kind, Setting};
use crate::ratelimit::Limit;

impl RawSettings {
    /// The value set for `name`, else its declared default value.
    pub(super) fn value(&self, name: &str) -> Result<&str, ConfigError> {
        let setting = declared(name)?;
        match (self.get(name), setting.default) {
            (Some(value), _) => Ok(value),
            (None, DefaultValue::Value(value)) => Ok(value),
            (None, _) => Err(ConfigError::new(
                name,
                "is declared without a default value",
            )),
        }
    }

    /// The value of `name` as `value` gives it, once its declaration says it is of `kind`.
    fn value_of(&self, name: &str, kind: Kind) -> Result<&str, ConfigError> {
        declared_as(name, kind)?;
        self.value(name)
    }

    /// Free text.
    pub(super) fn text(&self, name: &str) -> Result<String, ConfigError> {
        Ok(self.value_of(name, Kind::Text)?.to_string())
    }

    /// A secret, when set.
    pub(super) fn secret(&self, name: &str) -> Result<Option<Secret>, ConfigError> {
        declared_as(name, Kind::Secret)?;
        Ok(self.get(name).map(Secret::new))
    }

    /// `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`, in any case.
    pub(super) fn flag(&self, name: &str) -> Result<bool, ConfigError> {
        match self
            .value_of(name, Kind::Flag)?
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            other => Err(ConfigError::new(
                name,
                format!("'{other}' is not true or false"),
            )),
        }
    }

    /// A whole number within its declared bounds.
    pub(super) fn number<T>(&self, name: &str) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + fmt::Display + TryFrom<i64>,
    {
        let value = self.value(name)?;
        whole_number(declared(name)?, value)
    }

    /// A whole number within its declared bounds when set, else `fallback`.
    pub(super) fn number_or<T>(&self, name: &str, fallback: T) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + fmt::Display + TryFrom<i64>,
    {
        match self.get(name) {
            Some(value) => whole_number(declared(name)?, value),
            None => Ok(fallback),
        }
    }

    /// A number of milliseconds.
    pub(super) fn millis(&self, name: &str) -> Result<Duration, ConfigError> {
        Ok(Duration::from_millis(self.number(name)?))
    }

    /// A number of seconds.
    pub(super) fn seconds(&self, name: &str) -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(self.number(name)?))
    }

    /// A number of minutes.
    pub(super) fn minutes(&self, name: &str) -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(60 * self.number::<u64>(name)?))
    }

    /// A rate limit, `count/seconds`.
    pub(super) fn limit(&self, name: &str) -> Result<Limit, ConfigError> {
        Limit::parse(self.value_of(name, Kind::Limit)?)
            .map_err(|problem| ConfigError::new(name, problem))
    }

    /// An `http://` or `https://` URL without its trailing `/`.
    pub(super) fn url(&self, name: &str) -> Result<String, ConfigError> {
        let value = self.value_of(name, Kind::Url)?.trim().trim_end_matches('/');
        if !is_http_url(value) {
            return Err(ConfigError::new(
                name,
                format!("'{value}' is not an http:// or https:// URL"),
            ));
        }
        Ok(value.to_string())
    }
}

/// The declaration of `name`, when it is of `kind` (bounds aside).
fn declared_as(name: &str, kind: Kind) -> Result<&'static Setting, ConfigError> {
    let setting = declared(name)?;
    if std::mem::discriminant(&setting.kind) != std::mem::discriminant(&kind) {
        return Err(ConfigError::new(
            name,
            format!("is declared as {:?}, not {kind:?}", setting.kind),
        ));
    }
    Ok(setting)
}

/// `text` as a whole number within the bounds `setting` declares.
fn whole_number<T>(setting: &Setting, text: &str) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + fmt::Display + TryFrom<i64>,
{
    let name = setting.name;
    let Kind::Number { min, max } = setting.kind else {
        return Err(ConfigError::new(name, "is not declared as a number"));
    };
    let (Ok(min), Ok(max)) = (T::try_from(min), T::try_from(max)) else {
        return Err(ConfigError::new(
            name,
            "is declared with bounds its type cannot hold",
        ));
    };
    let value: T = text
        .trim()
        .parse()
        .map_err(|_| ConfigError::new(name, format!("'{text}' is not a whole number")))?;
    if value < min || value > max {
        return Err(ConfigError::new(
            name,
            format!("{value} is out of range ({min} to {max})"),
        ));
    }
    Ok(value)
}
