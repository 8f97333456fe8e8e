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

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    use super::super::{settings, RawSettings, SECTIONS};
    use super::*;

    /// The README's configuration part: from its heading to the next one of its level.
    fn readme_configuration() -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let start = readme.find("\n## Configuration\n").unwrap();
        let rest = &readme[start + 1..];
        let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 4);
        rest[..end].to_string()
    }

    /// The settings the README's tables list, with the default each row shows.
    fn readme_rows(text: &str) -> BTreeMap<String, String> {
        text.lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split(" | ").collect();
                let name = cells.first()?.strip_prefix("| `")?.strip_suffix('`')?;
                Some((name.to_string(), cells.get(1)?.to_string()))
            })
            .collect()
    }

    #[test]
    fn names_are_upper_case_and_declared_once() {
        let mut seen = BTreeSet::new();
        for s in settings() {
            assert_eq!(s.name, s.name.to_ascii_uppercase());
            assert!(seen.insert(s.name), "{} is declared twice", s.name);
        }
    }

    #[test]
    fn the_readme_tables_show_every_setting_and_its_default() {
        let text = readme_configuration();
        let rows = readme_rows(&text);
        let declared: BTreeMap<String, String> = settings()
            .map(|s| (s.name.to_string(), s.default_shown()))
            .collect();
        let missing: Vec<_> = declared.keys().filter(|n| !rows.contains_key(*n)).collect();
        assert!(missing.is_empty(), "the README does not list {missing:?}");
        let unknown: Vec<_> = rows.keys().filter(|n| !declared.contains_key(*n)).collect();
        assert!(
            unknown.is_empty(),
            "the README lists undeclared {unknown:?}"
        );
        for (name, shown) in &rows {
            assert_eq!(shown, &declared[name], "the README's default of {name}");
        }
        let tables: String = SECTIONS
            .iter()
            .map(Section::readme_table)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            text.contains(&tables),
            "the README's tables differ from the declaration; they should read:\n\n{tables}"
        );
    }

    #[test]
    fn default_toml_holds_declared_defaults_only() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let nowhere = dir.join("no-such.env");
        let raw = RawSettings::load_with(&dir, &nowhere, BTreeMap::new()).unwrap();
        assert!(!raw.0.is_empty());
        for (name, value) in &raw.0 {
            let setting = settings().find(|s| s.name == name).unwrap();
            let default = match setting.default {
                DefaultValue::Value(default) => Some(default),
                DefaultValue::Unset | DefaultValue::Derived(_) => None,
            };
            assert_eq!(
                default,
                Some(value.as_str()),
                "config/default.toml sets {name} to something other than its declared default"
            );
        }
        for env in ["development", "production"] {
            let process = BTreeMap::from([("SWITCHBOARD_ENV".to_string(), env.to_string())]);
            RawSettings::load_with(&dir, &nowhere, process).unwrap();
        }
    }
}
