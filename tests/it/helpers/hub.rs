//! A hub on a local port for one test: its settings, requests to it, logins and ready-made users.

use serde_json::Value;
use switchboard::app::AppState;
use switchboard::config::{Config, RawSettings};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::db::TestDb;

/// Email and password of the admin every test app starts with.
pub const ADMIN_EMAIL: &str = "admin@switchboard.test";
/// See `ADMIN_EMAIL`.
pub const ADMIN_PASSWORD: &str = "admin-password-123";

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
        let db = self.db.beside();
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
