//! A database of its own per test, on the backend `TEST_DATABASE_URL` names; a proxy to cut.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::Connection;
use tokio::net::{TcpListener, TcpStream};

fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", switchboard::tokens::random_hex(6))
}

/// A database of its own for one test, removed when dropped.
pub struct TestDb {
    /// The URL the app is given.
    pub url: String,
    /// Host and port of the server, for PostgreSQL and MySQL.
    pub server: Option<String>,
    /// The SQLite file, when the backend is SQLite.
    pub sqlite_path: Option<PathBuf>,
    cleanup: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    /// A fresh, empty database on the backend of `TEST_DATABASE_URL`:
    /// SQLite file, PostgreSQL schema, or MySQL database.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
        if base.starts_with("postgres") {
            let schema = unique_name("sb");
            let mut admin = diesel::PgConnection::establish(&base).expect("connect to PostgreSQL");
            admin
                .batch_execute(&format!("CREATE SCHEMA {schema}"))
                .expect("create schema");
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
            Self {
                server: Some(server_of(&base)),
                url,
                sqlite_path: None,
                cleanup: Some((base, format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))),
                _dir: dir,
            }
        } else if base.starts_with("mysql") || base.starts_with("mariadb") {
            Self::mysql(base, dir)
        } else {
            let path = dir.path().join("switchboard.db");
            Self {
                url: format!("sqlite://{}", path.display()),
                server: None,
                sqlite_path: Some(path),
                cleanup: None,
                _dir: dir,
            }
        }
    }

    #[cfg(feature = "mysql")]
    fn mysql(base: String, dir: tempfile::TempDir) -> Self {
        let name = unique_name("sb");
        let mut admin = diesel::MysqlConnection::establish(&base.replacen("mariadb:", "mysql:", 1))
            .expect("connect to MySQL");
        admin
            .batch_execute(&format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))
            .expect("create database");
        let (head, _) = base.rsplit_once('/').expect("mysql URL with a database");
        Self {
            url: format!("{head}/{name}"),
            server: Some(server_of(&base)),
            sqlite_path: None,
            cleanup: Some((base, format!("DROP DATABASE IF EXISTS {name}"))),
            _dir: dir,
        }
    }

    #[cfg(not(feature = "mysql"))]
    fn mysql(_base: String, _dir: tempfile::TempDir) -> Self {
        panic!("TEST_DATABASE_URL names MySQL: run the tests with --features mysql");
    }

    /// The same database for a second hub process; this one stays the one that removes it.
    pub(super) fn beside(&self) -> Self {
        Self {
            url: self.url.clone(),
            server: self.server.clone(),
            sqlite_path: self.sqlite_path.clone(),
            cleanup: None,
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// The same database reached through `proxy` instead of directly.
    pub fn url_via(&self, proxy: &str) -> String {
        match &self.server {
            Some(server) => self.url.replacen(server.as_str(), proxy, 1),
            None => self.url.clone(),
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> &'static str {
        if self.url.starts_with("postgres") {
            "postgres"
        } else if self.url.starts_with("mysql") || self.url.starts_with("mariadb") {
            "mysql"
        } else {
            "sqlite"
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((base, statement)) = self.cleanup.take() else {
            return;
        };
        if base.starts_with("postgres") {
            if let Ok(mut c) = diesel::PgConnection::establish(&base) {
                let _ = c.batch_execute(&statement);
            }
        } else {
            #[cfg(feature = "mysql")]
            if let Ok(mut c) =
                diesel::MysqlConnection::establish(&base.replacen("mariadb:", "mysql:", 1))
            {
                let _ = c.batch_execute(&statement);
            }
        }
    }
}

/// `host:port` of a `scheme://user@host:port/db` URL.
fn server_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let rest = rest.rsplit_once('@').map(|(_, r)| r).unwrap_or(rest);
    rest.split(['/', '?']).next().unwrap_or(rest).to_string()
}

/// A TCP proxy in front of a database server that a test can cut, as if the database went away.
pub struct Proxy {
    /// `127.0.0.1:<port>` to connect to instead of the server.
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    generation: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Proxy {
    /// Starts forwarding to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(tokio::sync::watch::channel(0u64).0);
        let (accept_up, accept_gen) = (up.clone(), generation.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accept_up.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let upstream = upstream.clone();
                let mut cut = accept_gen.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self {
            addr,
            up,
            generation,
        }
    }

    /// Cuts every open connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}
