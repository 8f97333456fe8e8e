//! Persistence: connections, migrations, the schema and the queries each domain needs.

pub mod accounts;
pub mod ai_settings;
pub mod ai_usage;
pub mod api_keys;
pub mod assignment;
pub mod audit;
pub mod canned;
pub mod channels;
pub mod chats;
pub mod checkpoint;
pub mod connection;
pub mod contacts;
pub mod dialect;
pub mod erase;
pub mod events;
pub mod hooks;
pub mod imported_leads;
pub mod installation;
pub mod labels;
pub mod lead_imports;
pub mod leads;
pub mod media;
pub mod messages;
pub mod migrations;
pub mod password_tokens;
pub mod prepared;
pub mod reads;
pub mod search;
pub mod sessions;
pub mod users;
pub mod widget_sessions;

/// The tables, as the store's queries name them.
pub use crate::schema;

use std::time::Duration;

use connection::{DatabaseUrl, DbConnection, DbPool};
use diesel::r2d2;

/// Why a database call failed: no connection in time (an outage), or the work's own error.
#[derive(Debug, thiserror::Error)]
pub enum DbError<E> {
    /// The pool could not hand out a connection, or the task died.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The work itself failed.
    #[error("{0}")]
    Work(E),
}

impl<E> DbError<E> {
    fn unavailable(e: r2d2::PoolError) -> Self {
        tracing::warn!(error = %e, "database pool could not hand out a connection");
        Self::Unavailable(e.to_string())
    }
}

/// The database as the rest of the hub sees it: a pool whose work runs off the async threads.
#[derive(Clone, Debug)]
pub struct Db {
    pool: DbPool,
    /// One connection of its own for the health check, so a busy pool is not reported as a
    /// database that is down.
    probe: DbPool,
    url: DatabaseUrl,
    manager: connection::ConnectionManager,
}

impl Db {
    /// Connects to the database named by `url` with at most `max_size` connections
    /// (on the blocking thread pool: opening connections blocks).
    pub async fn connect(url: &DatabaseUrl, max_size: u32) -> anyhow::Result<Self> {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let manager = connection::ConnectionManager::new(url.clone());
            let pool =
                connection::build_pool_with(manager.clone(), max_size, Duration::from_secs(10))
                    .map_err(|e| {
                        anyhow::anyhow!("cannot connect to {}: {e}", url.display_safe())
                    })?;
            let probe = connection::build_pool_with(manager.clone(), 1, Duration::from_secs(10))
                .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", url.display_safe()))?;
            Ok(Self {
                pool,
                probe,
                url,
                manager,
            })
        })
        .await?
    }

    /// The pool itself, for the store's writer thread.
    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// The URL this database was opened with.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Statements the pool's connections have run since start, for metrics (and tests that
    /// count what a request costs).
    pub fn statements(&self) -> u64 {
        self.manager.statements()
    }

    /// The pool's size and idle connections, for metrics.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (
            self.pool.max_size(),
            state.connections,
            state.idle_connections,
        )
    }

    /// Runs `work` with a pooled connection on the blocking thread pool; a pool that cannot
    /// hand out a connection in time is `DbError::Unavailable`.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, DbError<E>>
    where
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(DbError::unavailable)?;
            work(&mut conn).map_err(DbError::Work)
        })
        .await
        .map_err(|e| DbError::Unavailable(format!("database task failed: {e}")))?
    }

    /// Like `run`, on the health check's own connection, giving up after `timeout` (the check
    /// must answer quickly, and say whether the database answers, not whether the pool is busy).
    pub async fn run_with_timeout<T, E, F>(
        &self,
        timeout: Duration,
        work: F,
    ) -> Result<T, DbError<E>>
    where
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let pool = self.probe.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get_timeout(timeout).map_err(DbError::unavailable)?;
            work(&mut conn).map_err(DbError::Work)
        })
        .await
        .map_err(|e| DbError::Unavailable(format!("database task failed: {e}")))?
    }

    /// Applies pending migrations; returns the names applied.
    pub async fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            migrations::run_pending(&mut conn).map_err(|e| anyhow::anyhow!("migration failed: {e}"))
        })
        .await?
    }
}
