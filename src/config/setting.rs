//! What a setting is: its environment name, default, check and one line for operators.

use std::ops::RangeInclusive;

/// One setting as an operator writes it, declared once in its section's file.
#[derive(Clone, Copy, Debug)]
pub struct Setting {
    /// The name in the environment and `.env`; TOML files write it in any case.
    pub name: &'static str,
    /// What applies when the setting is absent or blank.
    pub default: DefaultValue,
    /// What a value must look like.
    pub kind: Kind,
    /// What the setting is for, as the README's table says it (Markdown).
    pub doc: &'static str,
}

/// What applies when a setting is absent or blank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultValue {
    /// Nothing: the feature the setting turns on stays off, or the value is not needed.
    Unset,
    /// This value, read exactly as if it had been set.
    Value(&'static str),
    /// Worked out when the configuration is read; says how, for the README.
    Derived(&'static str),
}

/// What a value must look like; checked when it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Any text.
    Text,
    /// Any text that must never reach a log.
    Secret,
    /// `true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    Flag,
    /// A whole number within these bounds.
    Number {
        /// The smallest value accepted.
        min: i64,
        /// The largest value accepted.
        max: i64,
    },
    /// A rate limit, `count/seconds`.
    Limit,
    /// An `http://` or `https://` URL, kept without its trailing `/`.
    Url,
    /// Checked by its section's own function (addresses, choices, lists, schemes).
    Special,
}

impl Setting {
    /// Free text with a default.
    pub const fn text(name: &'static str, default: &'static str, doc: &'static str) -> Self {
        Self::new(name, DefaultValue::Value(default), Kind::Text, doc)
    }

    /// A secret, unset by default.
    pub const fn secret(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, DefaultValue::Unset, Kind::Secret, doc)
    }

    /// A flag with a default.
    pub const fn flag(name: &'static str, default: &'static str, doc: &'static str) -> Self {
        Self::new(name, DefaultValue::Value(default), Kind::Flag, doc)
    }

    /// A whole number within `range`, with a default.
    pub const fn number(
        name: &'static str,
        default: &'static str,
        range: RangeInclusive<i64>,
        doc: &'static str,
    ) -> Self {
        let kind = Kind::Number {
            min: *range.start(),
            max: *range.end(),
        };
        Self::new(name, DefaultValue::Value(default), kind, doc)
    }

    /// A rate limit with a default.
    pub const fn limit(name: &'static str, default: &'static str, doc: &'static str) -> Self {
        Self::new(name, DefaultValue::Value(default), Kind::Limit, doc)
    }

    /// An HTTP URL with a default.
    pub const fn url(name: &'static str, default: &'static str, doc: &'static str) -> Self {
        Self::new(name, DefaultValue::Value(default), Kind::Url, doc)
    }

    /// A setting its section reads with a function of its own.
    pub const fn special(name: &'static str, default: DefaultValue, doc: &'static str) -> Self {
        Self::new(name, default, Kind::Special, doc)
    }

    /// Any setting, spelled out.
    pub const fn new(
        name: &'static str,
        default: DefaultValue,
        kind: Kind,
        doc: &'static str,
    ) -> Self {
        Self {
            name,
            default,
            kind,
            doc,
        }
    }

    /// The default as the README's table shows it.
    pub fn default_shown(&self) -> String {
        match self.default {
            DefaultValue::Unset => "—".to_string(),
            DefaultValue::Value(value) => format!("`{value}`"),
            DefaultValue::Derived(how) => how.to_string(),
        }
    }
}

/// The settings of one part of the hub, in the order the README lists them.
#[derive(Clone, Copy, Debug)]
pub struct Section {
    /// The section's heading in the README.
    pub title: &'static str,
    /// Its settings.
    pub settings: &'static [Setting],
}

impl Section {
    /// The section's part of the README: a heading and a table with one row per setting.
    pub fn readme_table(&self) -> String {
        let mut text = format!(
            "### {}\n\n| Setting | Default | Meaning |\n|---|---|---|\n",
            self.title
        );
        for s in self.settings {
            text.push_str(&format!(
                "| `{}` | {} | {} |\n",
                s.name,
                s.default_shown(),
                s.doc
            ));
        }
        text
    }
}
