//! The shared state every handler reads: configuration, database and metrics.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Db;

/// Everything one hub process shares between requests.
#[derive(Debug)]
pub struct App {
    /// The validated configuration.
    pub config: Config,
    /// The database, reached through a pool off the async threads.
    db: Db,
    /// Counters and histograms served at `/metrics`.
    pub metrics: Metrics,
    /// When this process started serving.
    pub started_at: Instant,
}

impl App {
    /// Assembles the state from its parts.
    pub fn new(config: Config, db: Db) -> Self {
        Self {
            config,
            db,
            metrics: Metrics::default(),
            started_at: Instant::now(),
        }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }
}

/// The handle axum passes to handlers: cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}
