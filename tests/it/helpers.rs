//! The test harness: a fresh database per test, the app on a local port, a killable proxy.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::Connection;
use serde_json::Value;
use switchboard::app::AppState;
use switchboard::config::{Config, RawSettings};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Email and password of the admin every test app starts with.
pub const ADMIN_EMAIL: &str = "admin@switchboard.test";
/// See `ADMIN_EMAIL`.
pub const ADMIN_PASSWORD: &str = "admin-password-123";

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

/// The signing key of every test app (a hub process beside one needs the same).
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// Settings every test app starts from.
pub fn base_settings(db_url: &str, data_dir: &std::path::Path) -> RawSettings {
    RawSettings::from_pairs([
        ("SWITCHBOARD_ENV", "test"),
        ("BIND_ADDR", "127.0.0.1:0"),
        ("DATABASE_URL", db_url),
        ("DATABASE_POOL_SIZE", "4"),
        ("JWT_SECRET", JWT_SECRET),
        ("ADMIN_EMAIL", ADMIN_EMAIL),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("DATA_DIR", &data_dir.display().to_string()),
        // Outside services are never reached from tests: tests that need one start it locally.
        ("META_GRAPH_URL", "http://127.0.0.1:9"),
        ("AI_BASE_URL", "http://127.0.0.1:9"),
        // Tests log in often from one address; the limit tests set their own.
        ("LOGIN_LIMIT_PER_IP", "10000/60"),
        ("LOGIN_LIMIT_PER_EMAIL", "10000/60"),
        // Tests poll for facts; the poll limit test sets its own.
        ("WIDGET_POLL_LIMIT_PER_SESSION", "100000/60"),
        ("WIDGET_POLL_LIMIT_PER_IP", "100000/60"),
    ])
}

/// A running hub on a local port with its own database.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The app's shared state, for looking behind the API.
    pub state: AppState,
    /// A plain HTTP client.
    pub client: reqwest::Client,
    /// The database, kept until the app is dropped.
    pub db: TestDb,
    stop: Option<oneshot::Sender<()>>,
    _data: tempfile::TempDir,
}

impl TestApp {
    /// Starts a hub with the default test settings.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a hub after `adjust` has changed the settings.
    pub async fn spawn_with(adjust: impl FnOnce(&mut RawSettings)) -> Self {
        let db = TestDb::new();
        let url = db.url.clone();
        Self::spawn_on(db, url, adjust).await
    }

    /// Starts a hub on `db`, reached at `url` (which may go through a proxy).
    pub async fn spawn_on(db: TestDb, url: String, adjust: impl FnOnce(&mut RawSettings)) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let mut raw = base_settings(&url, data.path());
        adjust(&mut raw);
        let config = Config::from_raw(&raw).expect("valid test configuration");
        let state = switchboard::server::prepare(config)
            .await
            .expect("app starts");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = state.clone();
        tokio::spawn(async move {
            let _ = switchboard::server::run(serving, listener, async {
                let _ = stopped.await;
            })
            .await;
        });
        Self {
            base: format!("http://{addr}"),
            state,
            client: reqwest::Client::new(),
            db,
            stop: Some(stop),
            _data: data,
        }
    }

    /// A second hub process on the same database, as behind a load balancer.
    pub async fn spawn_beside(&self, adjust: impl FnOnce(&mut RawSettings)) -> Self {
        let db = TestDb {
            url: self.db.url.clone(),
            server: self.db.server.clone(),
            sqlite_path: self.db.sqlite_path.clone(),
            // The first app's database: it is the one that removes it.
            cleanup: None,
            _dir: tempfile::tempdir().expect("temp dir"),
        };
        let url = db.url.clone();
        Self::spawn_on(db, url, adjust).await
    }

    /// Stops serving, as a process that goes away does; the database stays.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// The full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// GET a path; the status and the JSON body (Null when the body is not JSON).
    pub async fn get(&self, path: &str) -> (reqwest::StatusCode, Value) {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        split(response).await
    }

    /// POST a JSON value to a path.
    pub async fn post_json(&self, path: &str, body: &Value) -> (reqwest::StatusCode, Value) {
        let response = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request");
        split(response).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The status and JSON body of a response.
pub async fn split(response: reqwest::Response) -> (reqwest::StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Asserts the JSON error shape with a given code.
pub fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "error body: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "error message missing: {body}"
    );
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

/// A user made for a test, with the password it logs in with.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// User id.
    pub id: i64,
    /// Login email.
    pub email: String,
    /// Password.
    pub password: String,
    /// A bearer token from logging in.
    pub token: String,
}

impl TestApp {
    /// Sends a request with a bearer token and an optional JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (reqwest::StatusCode, Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        split(request.send().await.expect("request")).await
    }

    /// Logs in; the token on success, the status and body otherwise.
    pub async fn try_login(
        &self,
        email: &str,
        password: &str,
    ) -> Result<String, (reqwest::StatusCode, Value)> {
        let (status, body) = self
            .post_json(
                "/api/auth/login",
                &serde_json::json!({"email": email, "password": password}),
            )
            .await;
        if status == 200 {
            Ok(body["access_token"].as_str().expect("token").to_string())
        } else {
            Err((status, body))
        }
    }

    /// The token of the first admin.
    pub async fn admin_token(&self) -> String {
        self.try_login(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .expect("admin logs in")
    }

    /// Creates a user of the given role through the API (as the first admin) and logs in.
    pub async fn user(&self, role: &str) -> TestUser {
        let admin = self.admin_token().await;
        let email = format!(
            "{role}-{}@switchboard.test",
            switchboard::tokens::random_hex(4)
        );
        let password = "a-long-test-password".to_string();
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/users",
                Some(&admin),
                Some(&serde_json::json!({
                    "email": email, "name": format!("Test {role}"), "role": role, "password": password
                })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let token = self
            .try_login(&email, &password)
            .await
            .expect("new user logs in");
        TestUser {
            id: body["id"].as_i64().expect("id"),
            email,
            password,
            token,
        }
    }

    /// A second account with its own admin, created behind the API; logged in.
    pub async fn other_account_admin(&self) -> TestUser {
        let email = format!(
            "other-{}@elsewhere.test",
            switchboard::tokens::random_hex(4)
        );
        let password = "another-long-password".to_string();
        let hash = switchboard::auth::password::hash(&password).expect("hash");
        let mail = email.clone();
        let id = self
            .state
            .db()
            .run(move |conn| -> Result<i64, switchboard::error::AppError> {
                let account = switchboard::store::accounts::create(conn, "Elsewhere")?;
                Ok(switchboard::store::users::create(
                    conn,
                    &switchboard::store::users::NewUser {
                        account_id: account,
                        email: mail,
                        name: "Other admin".into(),
                        role: switchboard::model::Role::Admin,
                        password_hash: Some(hash),
                    },
                )?)
            })
            .await
            .expect("second account");
        let token = self
            .try_login(&email, &password)
            .await
            .expect("other admin logs in");
        TestUser {
            id,
            email,
            password,
            token,
        }
    }
}

/// A minimal SMTP server speaking the real protocol on a local port; it collects the
/// DATA of every mail it accepts, and can refuse the first connections with 421.
pub struct SmtpServer {
    /// `127.0.0.1:<port>`.
    pub addr: SocketAddr,
    received: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>>,
    /// Connections seen so far.
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
}

impl SmtpServer {
    /// Starts a server that refuses the first `refuse_first` connections.
    pub async fn start(refuse_first: usize) -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = connections.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let tx = tx.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    if n < refuse_first {
                        let _ = write.write_all(b"421 try again later\r\n").await;
                        return;
                    }
                    let _ = write.write_all(b"220 smtp.test ESMTP\r\n").await;
                    while let Ok(Some(line)) = lines.next_line().await {
                        let verb = line
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" => b"250-smtp.test\r\n250 8BITMIME\r\n",
                            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
                            "DATA" => {
                                let _ = write.write_all(b"354 go ahead\r\n").await;
                                let mut data = String::new();
                                while let Ok(Some(l)) = lines.next_line().await {
                                    if l == "." {
                                        break;
                                    }
                                    data.push_str(&l);
                                    data.push('\n');
                                }
                                let _ = tx.send(data);
                                b"250 queued\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"502 not implemented\r\n",
                        };
                        if write.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            received: tokio::sync::Mutex::new(rx),
            connections,
        }
    }

    /// The next mail received, waiting up to `secs` seconds.
    pub async fn next_mail(&self, secs: u64) -> Option<String> {
        let mut rx = self.received.lock().await;
        tokio::time::timeout(std::time::Duration::from_secs(secs), rx.recv())
            .await
            .ok()
            .flatten()
    }
}

/// Decodes quoted-printable soft line breaks and `=XX` escapes, enough to read a link.
pub fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The reset token of the first `token=` link in a mail.
pub fn token_from_mail(mail: &str) -> String {
    let decoded = decode_quoted_printable(mail);
    let start = decoded.find("token=").expect("a link with a token") + "token=".len();
    decoded[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

/// The app secret the Meta fixtures are signed with.
pub const META_APP_SECRET: &str = "switchboard-test-app-secret";
/// The Facebook page id of the fixtures.
pub const PAGE_ID: &str = "104857600000001";

/// `sha256=<hex>` of a body with the fixtures' app secret.
pub fn meta_sign(body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(META_APP_SECRET.as_bytes()).expect("key");
    mac.update(body);
    format!(
        "sha256={}",
        switchboard::tokens::hex(&mac.finalize().into_bytes())
    )
}

/// A Messenger delivery with one text message.
pub fn messenger_text(sender: &str, mid: &str, text: &str, timestamp_ms: i64) -> Vec<u8> {
    serde_json::json!({"object":"page","entry":[{"id":PAGE_ID,"time":timestamp_ms,"messaging":[
        {"sender":{"id":sender},"recipient":{"id":PAGE_ID},"timestamp":timestamp_ms,
         "message":{"mid":mid,"text":text}}]}]})
    .to_string()
    .into_bytes()
}

impl TestApp {
    /// A hub that accepts the fixtures' signatures, with a Facebook channel for their page.
    pub async fn spawn_meta(adjust: impl FnOnce(&mut RawSettings)) -> (Self, i64) {
        let app = Self::spawn_with(|s| {
            s.set("META_APP_SECRET", META_APP_SECRET);
            s.set("META_VERIFY_TOKEN", "switchboard-verify-token");
            adjust(s);
        })
        .await;
        let admin = app.admin_token().await;
        let (status, body) = app
            .call(
                reqwest::Method::POST,
                "/api/channels",
                Some(&admin),
                Some(&serde_json::json!({"kind": "facebook", "name": "Page", "external_id": PAGE_ID, "access_token": "page-token"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_i64().expect("channel id");
        (app, id)
    }

    /// Posts a signed Messenger delivery; the status.
    pub async fn post_messenger(&self, body: Vec<u8>) -> u16 {
        let signature = meta_sign(&body);
        self.client
            .post(self.url("/api/webhooks/facebook"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body)
            .send()
            .await
            .expect("request")
            .status()
            .as_u16()
    }
}

/// One request the fake Graph API received.
#[derive(Debug, Clone)]
pub struct GraphRequest {
    /// The path, e.g. `/104857600000001/messages`.
    pub path: String,
    /// The `Authorization` header.
    pub authorization: String,
    /// The JSON body.
    pub body: Value,
}

/// A local server speaking the Graph Send API: answers from a script, then with success.
pub struct GraphServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    requests: Arc<std::sync::Mutex<Vec<GraphRequest>>>,
}

impl GraphServer {
    /// Starts a server that answers the scripted `(status, body)` pairs in order, then
    /// `200 {"recipient_id", "message_id": "m_sent_<n>"}`.
    pub async fn start(script: Vec<(u16, Value)>) -> Self {
        use axum::extract::{Path, State};
        use axum::http::{HeaderMap, StatusCode};
        type Shared = (
            Arc<std::sync::Mutex<Vec<GraphRequest>>>,
            Arc<std::sync::Mutex<std::collections::VecDeque<(u16, Value)>>>,
        );
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let script = Arc::new(std::sync::Mutex::new(
            script
                .into_iter()
                .collect::<std::collections::VecDeque<_>>(),
        ));
        let app = axum::Router::new()
            .route(
                "/{page}/messages",
                axum::routing::post(
                    |State((requests, script)): State<Shared>, Path(page): Path<String>, headers: HeaderMap, axum::Json(body): axum::Json<Value>| async move {
                        let n = {
                            let mut seen = requests.lock().unwrap();
                            seen.push(GraphRequest {
                                path: format!("/{page}/messages"),
                                authorization: headers
                                    .get("authorization")
                                    .and_then(|v| v.to_str().ok())
                                    .unwrap_or_default()
                                    .to_string(),
                                body: body.clone(),
                            });
                            seen.len()
                        };
                        let next = script.lock().unwrap().pop_front();
                        let (status, reply) = next.unwrap_or_else(|| {
                            (200, serde_json::json!({"recipient_id": body["recipient"]["id"], "message_id": format!("m_sent_{n}")}))
                        });
                        (StatusCode::from_u16(status).unwrap(), axum::Json(reply))
                    },
                ),
            )
            .route("/me", axum::routing::get(graph_me))
            .with_state((requests.clone(), script));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind graph");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, requests }
    }

    /// Everything received so far.
    pub fn requests(&self) -> Vec<GraphRequest> {
        self.requests.lock().unwrap().clone()
    }
}

/// The page a page access token speaks for in the fake Graph API (`GET /me?fields=id,name`).
pub const PAGE_NAME: &str = "Blue Sofa Shop";

/// Graph's `me` as the fake answers it: a page access token (sent as a bearer) speaks for
/// the fixtures' page, except one starting `refused-`, which Meta refuses as it refuses an
/// expired or revoked token; no token is refused too.
async fn graph_me(headers: axum::http::HeaderMap) -> (axum::http::StatusCode, axum::Json<Value>) {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if token.is_empty() || token.starts_with("refused-") {
        let refusal = serde_json::json!({"error": {
            "message": "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
            "type": "OAuthException", "code": 190, "error_subcode": 460, "fbtrace_id": "AbCdEf"}});
        return (axum::http::StatusCode::BAD_REQUEST, axum::Json(refusal));
    }
    (
        axum::http::StatusCode::OK,
        axum::Json(serde_json::json!({"id": PAGE_ID, "name": PAGE_NAME})),
    )
}

impl TestApp {
    /// An agent that round robin never picks (`can_receive_new_chats: false`).
    pub async fn agent_outside_round_robin(&self) -> TestUser {
        let agent = self.user("agent").await;
        let admin = self.admin_token().await;
        let (status, _) = self
            .call(
                reqwest::Method::PATCH,
                &format!("/api/users/{}", agent.id),
                Some(&admin),
                Some(&serde_json::json!({"can_receive_new_chats": false})),
            )
            .await;
        assert_eq!(status, 200);
        agent
    }
}

/// One scripted answer of the fake AI provider.
#[derive(Clone, Debug)]
pub struct AiAnswer {
    /// HTTP status.
    pub status: u16,
    /// `Retry-After` header, if any.
    pub retry_after: Option<u64>,
    /// Body.
    pub body: Value,
    /// How long to wait before answering.
    pub delay_ms: u64,
}

impl AiAnswer {
    /// 200 with a text answer.
    pub fn text(text: &str) -> Self {
        Self::ok(serde_json::json!({"role": "assistant", "content": text}))
    }

    /// 200 with one tool call (and optional text).
    pub fn tool(name: &str, arguments: Value, text: Option<&str>) -> Self {
        Self::ok(
            serde_json::json!({"role": "assistant", "content": text, "tool_calls": [
            {"id": format!("call_{name}"), "type": "function",
             "function": {"name": name, "arguments": arguments.to_string()}}]}),
        )
    }

    fn ok(message: Value) -> Self {
        Self {
            status: 200,
            retry_after: None,
            body: serde_json::json!({"id": "cmpl-1", "object": "chat.completion", "model": "test-model",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}}),
            delay_ms: 0,
        }
    }

    /// An error status with a body.
    pub fn error(status: u16, retry_after: Option<u64>) -> Self {
        Self {
            status,
            retry_after,
            body: serde_json::json!({"error": {"message": "scripted failure"}}),
            delay_ms: 0,
        }
    }
}

/// A local OpenAI-compatible Chat Completions server: answers from a script, then with
/// `default`; keeps every request body.
pub struct AiServer {
    /// Base URL (`http://127.0.0.1:<port>/v1`).
    pub url: String,
    requests: Arc<std::sync::Mutex<Vec<Value>>>,
}

impl AiServer {
    /// Starts the server.
    pub async fn start(script: Vec<AiAnswer>, default: AiAnswer) -> Self {
        Self::serve(script, default, None).await
    }

    /// Starts a server that answers requests asking for structured output (`response_format`)
    /// with `structured` and every other with `plain`.
    pub async fn start_structured(structured: AiAnswer, plain: AiAnswer) -> Self {
        Self::serve(Vec::new(), plain, Some(structured)).await
    }

    async fn serve(script: Vec<AiAnswer>, default: AiAnswer, structured: Option<AiAnswer>) -> Self {
        use axum::extract::State;
        use axum::http::{HeaderMap, StatusCode};
        type Shared = (
            Arc<std::sync::Mutex<Vec<Value>>>,
            Arc<std::sync::Mutex<std::collections::VecDeque<AiAnswer>>>,
            AiAnswer,
            Option<AiAnswer>,
        );
        async fn complete(
            State((requests, script, default, structured)): State<Shared>,
            headers: HeaderMap,
            body: axum::Json<Value>,
        ) -> (StatusCode, HeaderMap, axum::Json<Value>) {
            // Recorded, not asserted here: a panic in a handler only drops the connection.
            let mut seen = body.0;
            seen["__authorization"] = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map_or(Value::Null, |v| Value::String(v.to_string()));
            let wants_structure = seen.get("response_format").is_some();
            requests.lock().unwrap().push(seen);
            let answer = match structured {
                Some(answer) if wants_structure => answer,
                _ => script.lock().unwrap().pop_front().unwrap_or(default),
            };
            tokio::time::sleep(Duration::from_millis(answer.delay_ms)).await;
            let mut out = HeaderMap::new();
            if let Some(after) = answer.retry_after {
                out.insert("retry-after", after.to_string().parse().unwrap());
            }
            (
                StatusCode::from_u16(answer.status).unwrap(),
                out,
                axum::Json(answer.body),
            )
        }
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let shared: Shared = (
            requests.clone(),
            Arc::new(std::sync::Mutex::new(script.into())),
            default,
            structured,
        );
        let app = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(complete))
            .with_state(shared);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, requests }
    }

    /// Every request body received so far (with the `Authorization` header it came with under
    /// `__authorization`).
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }
}

/// One request an outgoing-webhook receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    /// Request headers, lower-case names.
    pub headers: std::collections::HashMap<String, String>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The status answered.
    pub status: u16,
}

/// A local webhook receiver that fails the first `fail_first` requests (500), then answers 200.
pub struct Receiver {
    /// Where to POST.
    pub url: String,
    received: Arc<std::sync::Mutex<Vec<Received>>>,
    fail_first: Arc<std::sync::atomic::AtomicUsize>,
}

impl Receiver {
    /// Starts the receiver.
    pub async fn start(fail_first: usize) -> Self {
        use axum::extract::State;
        use axum::http::{HeaderMap, StatusCode};
        type Shared = (
            Arc<std::sync::Mutex<Vec<Received>>>,
            Arc<std::sync::atomic::AtomicUsize>,
        );
        async fn receive(
            State((received, fail_first)): State<Shared>,
            headers: HeaderMap,
            body: axum::body::Bytes,
        ) -> StatusCode {
            let mut list = received.lock().unwrap();
            let status = if list.len() < fail_first.load(Ordering::SeqCst) {
                500
            } else {
                200
            };
            list.push(Received {
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                    .collect(),
                body: body.to_vec(),
                status,
            });
            StatusCode::from_u16(status).unwrap()
        }
        let received = Arc::new(std::sync::Mutex::new(Vec::new()));
        let fail = Arc::new(std::sync::atomic::AtomicUsize::new(fail_first));
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state((received.clone(), fail.clone()));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            received,
            fail_first: fail,
        }
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// From now on, answer 200.
    pub fn recover(&self) {
        self.fail_first.store(0, Ordering::SeqCst);
    }

    /// Waits until `count` requests arrived (or `secs`).
    pub async fn wait_for(&self, count: usize, secs: u64) -> Vec<Received> {
        for _ in 0..secs * 20 {
            if self.received().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received()
    }
}

/// `sha256=<hex>` of a body under a secret.
pub fn hmac_hex(secret: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    format!(
        "sha256={}",
        switchboard::tokens::hex(&mac.finalize().into_bytes())
    )
}

/// A server that accepts connections and never answers, as a hung outside service does.
/// Keeps every connection open; counts them.
pub struct Silent {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Connections accepted so far.
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
}

impl Silent {
    /// Starts listening.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind silent");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = connections.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        Self { url, connections }
    }
}

/// A Redis server of the test's own, on a port of its own, which the test may restart.
pub struct RedisServer {
    child: Option<std::process::Child>,
    /// The port it listens on.
    pub port: u16,
}

impl RedisServer {
    /// Starts `redis-server` (Debian's package `redis-server`) keeping nothing on disk.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = Self { child: None, port };
        server.run().await;
        server
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn run(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start redis-server (apt-get install redis-server)");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("redis-server never listened on {}", self.port);
    }

    /// Kills the server (SIGKILL): every connection to it drops.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again, empty, on the same port.
    pub async fn restart(&mut self) {
        self.kill();
        self.run().await;
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
