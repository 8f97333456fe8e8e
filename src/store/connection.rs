//! Database connections: the backend chosen by URL scheme, one `MultiConnection` enum and its pool.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

/// Where the data lives; the variant comes from the scheme of `DATABASE_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file (`sqlite://path/to/file.db`).
    Sqlite(PathBuf),
    /// A PostgreSQL server (`postgres://` or `postgresql://`).
    Postgres(String),
    /// A MySQL or MariaDB server (`mysql://` or `mariadb://`); needs the `mysql` feature.
    Mysql(String),
}

impl DatabaseUrl {
    /// Reads a URL; the scheme alone decides the backend.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(format!(
                "'{}' has no scheme; use sqlite://, postgres:// or mysql://",
                redact(url)
            ));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err("sqlite:// needs a file path".to_string());
                }
                Ok(Self::Sqlite(PathBuf::from(path)))
            }
            "postgres" | "postgresql" => Ok(Self::Postgres(url.to_string())),
            "mysql" | "mariadb" if cfg!(feature = "mysql") => {
                Ok(Self::Mysql(format!("mysql:{rest}")))
            }
            "mysql" | "mariadb" => Err(
                "MySQL support is not built into this binary; rebuild with `--features mysql`"
                    .to_string(),
            ),
            other => Err(format!(
                "unsupported scheme '{other}'; use sqlite://, postgres:// or mysql://"
            )),
        }
    }

    /// A SQLite database at the given file path.
    pub fn sqlite_file(path: PathBuf) -> Self {
        Self::Sqlite(path)
    }

    /// The backend's short name, for logs and the health check.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
            Self::Mysql(_) => "mysql",
        }
    }

    /// The URL with any password replaced, safe to log.
    pub fn display_safe(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(url) | Self::Mysql(url) => redact(url),
        }
    }
}

/// Replaces the password of a `scheme://user:password@host` URL with `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// One connection to whichever backend `DATABASE_URL` names.
#[cfg(feature = "mysql")]
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
    /// PostgreSQL, for production and several hub processes.
    Postgres(PgConnection),
    /// MySQL or MariaDB.
    Mysql(diesel::mysql::MysqlConnection),
}

/// One connection to whichever backend `DATABASE_URL` names.
#[cfg(not(feature = "mysql"))]
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
    /// PostgreSQL, for production and several hub processes.
    Postgres(PgConnection),
}

/// A pool of connections to the configured database.
pub type DbPool = r2d2::Pool<ConnectionManager>;

/// A connection borrowed from the pool.
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// Opens connections of the backend named by the URL, never by trying backends in turn.
#[derive(Clone, Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    statements: Arc<AtomicU64>,
}

impl ConnectionManager {
    /// A manager for the given database.
    pub fn new(url: DatabaseUrl) -> Self {
        Self {
            url,
            statements: Arc::default(),
        }
    }

    /// Statements run so far by the connections this manager opened.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    fn counting(&self) -> StatementCounter {
        StatementCounter(Arc::clone(&self.statements))
    }
}

/// Counts the statements a connection starts.
struct StatementCounter(Arc<AtomicU64>);

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Why a connection could not be opened or set up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The server refused or could not be reached.
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    /// The per-connection settings failed.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    /// The folder for the SQLite file could not be created.
    #[error("cannot create the database folder: {0}")]
    Folder(std::io::Error),
}

/// Puts a SQLite file in WAL mode. The first switch of a new file needs a lock that another
/// connection opening at the same moment may hold, and SQLite reports that at once instead of
/// waiting out the busy timeout: so wait here, briefly, and try again.
fn switch_to_wal(conn: &mut SqliteConnection) -> Result<(), ConnectError> {
    let mut tries = 0;
    loop {
        match conn.batch_execute("PRAGMA journal_mode = WAL;") {
            Ok(()) => return Ok(()),
            Err(e) if tries < 200 && e.to_string().contains("locked") => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConnection, ConnectError> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(ConnectError::Folder)?;
                }
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                conn.batch_execute("PRAGMA busy_timeout = 5000;")?;
                switch_to_wal(&mut conn)?;
                conn.batch_execute("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
                // The WAL starts again from its beginning every 8,000 pages (32 MiB) rather
                // than SQLite's 1,000: `checkpoint` copies the pages back on a thread of its
                // own while the writer goes on, so the committing connection's checkpoint finds
                // little left to copy (README, "Measurements").
                conn.batch_execute("PRAGMA wal_autocheckpoint = 8000;")?;
                conn.set_instrumentation(self.counting());
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(url)?;
                conn.batch_execute("SET TIME ZONE 'UTC'")?;
                conn.set_instrumentation(self.counting());
                Ok(DbConnection::Postgres(conn))
            }
            #[cfg(feature = "mysql")]
            DatabaseUrl::Mysql(url) => {
                let mut conn = diesel::mysql::MysqlConnection::establish(url)?;
                // Statements see what others committed, as on PostgreSQL: the round-robin
                // cursor and the chat are read after the cursor row's lock is taken.
                conn.batch_execute(
                    "SET time_zone = '+00:00'; \
                     SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
                )?;
                conn.set_instrumentation(self.counting());
                Ok(DbConnection::Mysql(conn))
            }
            #[cfg(not(feature = "mysql"))]
            DatabaseUrl::Mysql(_) => Err(ConnectError::Connection(
                diesel::ConnectionError::InvalidConnectionUrl(
                    "MySQL support is not built into this binary".to_string(),
                ),
            )),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectError> {
        conn.ping().map_err(ConnectError::Query)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Builds the pool; fails when the database cannot be reached within `connect_timeout`.
pub fn build_pool(
    url: &DatabaseUrl,
    max_size: u32,
    connect_timeout: Duration,
) -> Result<DbPool, r2d2::PoolError> {
    build_pool_with(
        ConnectionManager::new(url.clone()),
        max_size,
        connect_timeout,
    )
}

/// As `build_pool`, with connections opened by `manager`.
pub fn build_pool_with(
    manager: ConnectionManager,
    max_size: u32,
    connect_timeout: Duration,
) -> Result<DbPool, r2d2::PoolError> {
    let max_size = match &manager.url {
        // One SQLite file takes one writer at a time; a few readers are plenty.
        DatabaseUrl::Sqlite(_) => max_size.min(8),
        _ => max_size,
    };
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(connect_timeout)
        .test_on_check_out(true)
        .build(manager)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_decides_the_backend() {
        assert!(matches!(
            DatabaseUrl::parse("sqlite://data/x.db"),
            Ok(DatabaseUrl::Sqlite(p)) if p.as_path() == std::path::Path::new("data/x.db")
        ));
        assert!(matches!(
            DatabaseUrl::parse("sqlite:///tmp/x.db"),
            Ok(DatabaseUrl::Sqlite(p)) if p.as_path() == std::path::Path::new("/tmp/x.db")
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(DatabaseUrl::parse("ftp://x").is_err());
        assert!(DatabaseUrl::parse("data/x.db").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://user:hunter2@db:5432/x"),
            "postgres://user:***@db:5432/x"
        );
        assert_eq!(redact("postgres://db/x"), "postgres://db/x");
    }

    #[test]
    fn many_first_connections_to_a_fresh_sqlite_file_all_open() {
        for round in 0..5 {
            let dir = std::env::temp_dir()
                .join(format!("sb-fresh-{}-{round}", crate::tokens::random_hex(6)));
            let manager = std::sync::Arc::new(ConnectionManager::new(DatabaseUrl::sqlite_file(
                dir.join("fresh.db"),
            )));
            let start = std::sync::Arc::new(std::sync::Barrier::new(8));
            let opened: Vec<_> = (0..8)
                .map(|_| {
                    let (manager, start) = (manager.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        manager.connect().map(|_| ()).map_err(|e| e.to_string())
                    })
                })
                .collect();
            for thread in opened {
                let result = thread.join().unwrap();
                assert!(result.is_ok(), "round {round}: {result:?}");
            }
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
