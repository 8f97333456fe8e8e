//! Database settings: which database, how many connections, and how the store commits.

use std::path::Path;

use super::raw::{ConfigError, RawSettings};
use super::setting::{DefaultValue, Section, Setting};
use crate::store::connection::DatabaseUrl;

/// The database's settings.
pub const SECTION: Section = Section {
    title: "Database",
    settings: &[
        Setting::special(
            "DATABASE_URL",
            DefaultValue::Derived("`sqlite://$DATA_DIR/switchboard.db`"),
            "`sqlite://path`, `postgres://…`, `mysql://…`; the scheme picks the backend",
        ),
        Setting::number(
            "DATABASE_POOL_SIZE",
            "16",
            1..=512,
            "connections in the pool (SQLite uses at most 8)",
        ),
        Setting::number(
            "STORE_MAX_BATCH",
            "1024",
            1..=100_000,
            "most commands committed in one transaction (`1`: no group commit)",
        ),
        Setting::number(
            "STORE_WRITERS",
            "2",
            1..=16,
            "writer threads committing groups on PostgreSQL (SQLite and MySQL always use one)",
        ),
    ],
};

/// `DATABASE_URL`, else the SQLite file `switchboard.db` in the data folder.
pub(super) fn url(raw: &RawSettings, data_dir: &Path) -> Result<DatabaseUrl, ConfigError> {
    match raw.get("DATABASE_URL") {
        Some(url) => DatabaseUrl::parse(url),
        None => Ok(DatabaseUrl::sqlite_file(data_dir.join("switchboard.db"))),
    }
    .map_err(|problem| ConfigError::new("DATABASE_URL", problem))
}
