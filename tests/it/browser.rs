//! A real browser for the console's tests: Debian's chromium driven over WebDriver by
//! chromedriver, one test at a time (a test may open several browsers). Without
//! chromium-driver the console tests say they are skipped, unless
//! `SWITCHBOARD_BROWSER_TESTS=required` (CI), where that is a failure; `=skip` skips them
//! (CI's runs on other databases: the console does not depend on the backend).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// Headless chromium makes no window narrower than this; a phone's width is emulated instead.
const HEADLESS_MIN_WIDTH: u32 = 500;
/// WebDriver's code for the Enter key.
pub const ENTER: &str = "\u{E007}";

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One headless chromium with its own profile.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// A test's turn with the browsers; `None` where they cannot run here (see the module).
pub struct Turn {
    driver: &'static str,
    _guard: tokio::sync::MutexGuard<'static, ()>,
}

/// Waits for this test's turn with the browsers.
pub async fn turn() -> Option<Turn> {
    if std::env::var("SWITCHBOARD_BROWSER_TESTS").as_deref() == Ok("skip") {
        eprintln!("SKIPPED: SWITCHBOARD_BROWSER_TESTS=skip (the browser tests run on SQLite)");
        return None;
    }
    let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(driver) = driver else {
        assert!(
            std::env::var("SWITCHBOARD_BROWSER_TESTS").as_deref() != Ok("required"),
            "browser tests are required here, but chromium-driver is not installed"
        );
        eprintln!(
            "SKIPPED: chromium-driver is not installed (apt-get install chromium chromium-driver)"
        );
        return None;
    };
    Some(Turn {
        driver,
        _guard: ONE_AT_A_TIME.lock().await,
    })
}

impl Turn {
    /// A new browser whose page is `width`×`height` CSS pixels (a phone's width is emulated:
    /// headless chromium keeps windows at least 500 px wide).
    pub async fn browser(&self, width: u32, height: u32) -> Browser {
        Browser::launch(self.driver, width, height).await
    }
}

/// An element on the page.
#[derive(Clone, Debug)]
pub struct Element(Value);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl Browser {
    async fn launch(driver_path: &str, width: u32, height: u32) -> Self {
        let profile = tempfile::tempdir().expect("profile dir");
        let http = reqwest::Client::new();
        for _ in 0..5 {
            let port = free_port();
            let mut command = Command::new(driver_path);
            command
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut driver = command.spawn().expect("start chromedriver");
            let base = format!("http://127.0.0.1:{port}");
            let mut ready = false;
            for _ in 0..100 {
                if let Ok(r) = http.get(format!("{base}/status")).send().await {
                    if r.json::<Value>()
                        .await
                        .ok()
                        .and_then(|v| v["value"]["ready"].as_bool())
                        == Some(true)
                    {
                        ready = true;
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if !ready {
                let _ = driver.kill();
                continue;
            }
            let args = vec![
                "--headless=new".to_string(),
                "--no-sandbox".into(),
                "--disable-gpu".into(),
                "--disable-dev-shm-usage".into(),
                "--disable-quic".into(),
                "--no-first-run".into(),
                "--disable-background-networking".into(),
                "--disable-component-update".into(),
                "--disable-sync".into(),
                "--lang=en-US".into(),
                format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", profile.path().display()),
            ];
            let capabilities = json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
                "unhandledPromptBehavior": "accept",
            }}});
            let answer: Value = http
                .post(format!("{base}/session"))
                .json(&capabilities)
                .send()
                .await
                .expect("new session")
                .json()
                .await
                .expect("session json");
            let id = answer["value"]["sessionId"]
                .as_str()
                .unwrap_or_else(|| panic!("no session: {answer}"));
            let browser = Self {
                session: format!("{base}/session/{id}"),
                http,
                driver,
                _profile: profile,
            };
            if width < HEADLESS_MIN_WIDTH {
                browser.emulate_viewport(width, height).await;
            }
            return browser;
        }
        panic!("chromedriver did not start");
    }

    /// Gives the page a `width`×`height` viewport, as a phone's screen (Chrome DevTools'
    /// device metrics, through chromedriver), whatever the window's size.
    async fn emulate_viewport(&self, width: u32, height: u32) {
        let answer = self
            .post(
                "/goog/cdp/execute",
                json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                    "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}}),
            )
            .await;
        assert!(
            !answer.is_object() || answer.get("error").is_none(),
            "the viewport could not be set: {answer}"
        );
        let inner = self
            .run("return [window.innerWidth, window.innerHeight];", vec![])
            .await;
        assert_eq!(inner, json!([width, height]), "the page's viewport");
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        request = request.json(&body.unwrap_or_else(|| json!({})));
        let answer: Value = request
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("webdriver json");
        answer["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    /// Opens a URL.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// Runs a script in the page; `arguments[i]` are `args` (elements may be passed).
    pub async fn run(&self, script: &str, args: Vec<Value>) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Waits up to `secs` seconds for `script` (an expression returning an element or a
    /// truthy value) to give something; fails the test with `what` otherwise.
    pub async fn wait_for(&self, secs: u64, what: &str, script: &str, args: Vec<Value>) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let found = self.run(&format!("return ({script});"), args.clone()).await;
            let ok = match &found {
                Value::Null | Value::Bool(false) => false,
                Value::Object(o) => !o.contains_key("error"),
                _ => true,
            };
            if ok {
                return found;
            }
            if tokio::time::Instant::now() > deadline {
                let text = self.page_text().await;
                panic!("waited {secs} s for {what}; the page shows:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page's visible text.
    pub async fn page_text(&self) -> String {
        self.run(
            "return document.body ? document.body.innerText : '';",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Waits until `text` is visible on the page.
    pub async fn wait_text(&self, secs: u64, text: &str) {
        self.wait_for(
            secs,
            &format!("the text {text:?}"),
            "document.body && document.body.innerText.includes(arguments[0])",
            vec![json!(text)],
        )
        .await;
    }

    /// The form control labelled `label`, as a person finds it.
    pub async fn field(&self, label: &str) -> Element {
        Element(
            self.wait_for(
                20,
                &format!("a field labelled {label:?}"),
                "(() => { const l = [...document.querySelectorAll('label')].find((l) => \
                 l.textContent.trim() === arguments[0] && l.offsetParent !== null); \
                 return l ? document.getElementById(l.htmlFor) : null; })()",
                vec![json!(label)],
            )
            .await,
        )
    }

    /// The visible button (or link) whose text starts with `text`, or whose accessible name
    /// (`aria-label`) is `text`.
    pub async fn button(&self, text: &str) -> Element {
        Element(
            self.wait_for(
                20,
                &format!("a button {text:?}"),
                "[...document.querySelectorAll('button, a')].find((b) => \
                 (b.textContent.trim().startsWith(arguments[0]) || b.getAttribute('aria-label') === arguments[0]) \
                 && b.offsetParent !== null && !b.disabled) || null",
                vec![json!(text)],
            )
            .await,
        )
    }

    /// The first element matching a CSS selector, waiting for it.
    pub async fn css(&self, selector: &str) -> Element {
        Element(
            self.wait_for(
                20,
                &format!("an element {selector:?}"),
                "document.querySelector(arguments[0])",
                vec![json!(selector)],
            )
            .await,
        )
    }

    /// Clicks an element.
    pub async fn click(&self, element: &Element) {
        let id = element.id();
        let answer = self.post(&format!("/element/{id}/click"), json!({})).await;
        assert!(answer.is_null(), "click failed: {answer}");
    }

    /// Finds the visible button or link with text `text` and clicks it, finding it again if
    /// the page redrew it in between.
    pub async fn press(&self, text: &str) {
        for _ in 0..20 {
            let element = self.button(text).await;
            if self.click_fresh(&element, text).await {
                return;
            }
        }
        panic!("{text:?} kept being redrawn");
    }

    /// Clicks the first element matching `selector`, finding it again if it was redrawn.
    pub async fn press_css(&self, selector: &str) {
        for _ in 0..20 {
            let element = self.css(selector).await;
            if self.click_fresh(&element, selector).await {
                return;
            }
        }
        panic!("{selector:?} kept being redrawn");
    }

    /// Clicks; false when the page had redrawn the element (find it again), a failure otherwise.
    async fn click_fresh(&self, element: &Element, what: &str) -> bool {
        let answer = self
            .post(&format!("/element/{}/click", element.id()), json!({}))
            .await;
        assert!(
            answer.is_null() || answer["error"] == "stale element reference",
            "click on {what:?} failed: {answer}"
        );
        answer.is_null()
    }

    /// Types into the field labelled `label`; a field the page redrew between finding and
    /// typing is found again, as a person would type into the one they see.
    pub async fn fill(&self, label: &str, text: &str) {
        for _ in 0..20 {
            let field = self.field(label).await;
            let answer = self
                .post(
                    &format!("/element/{}/value", field.id()),
                    json!({ "text": text }),
                )
                .await;
            if answer.is_null() {
                return;
            }
            assert!(
                answer["error"] == "stale element reference",
                "typing into {label:?} failed: {answer}"
            );
        }
        panic!("the field {label:?} kept being redrawn");
    }

    /// Types into an element (WebDriver keys such as `ENTER` included).
    pub async fn type_text(&self, element: &Element, text: &str) {
        let id = element.id();
        let answer = self
            .post(&format!("/element/{id}/value"), json!({ "text": text }))
            .await;
        assert!(answer.is_null(), "typing failed: {answer}");
    }

    /// Chooses an option of a `<select>` by its value, as a change by the user.
    pub async fn choose(&self, element: &Element, value: &str) {
        self.run(
            "arguments[0].value = arguments[1]; \
             arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
            vec![element.0.clone(), json!(value)],
        )
        .await;
    }

    /// The text of the elements matching `selector`.
    pub async fn texts(&self, selector: &str) -> Vec<String> {
        let found = self
            .run(
                "return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText);",
                vec![json!(selector)],
            )
            .await;
        found
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Opens a new tab of this browser (same storage) and switches to it; returns its handle
    /// and the one it came from.
    pub async fn new_tab(&self) -> (String, String) {
        let before = self.command(reqwest::Method::GET, "/window", None).await;
        let created = self.post("/window/new", json!({"type": "tab"})).await;
        let handle = created["handle"].as_str().expect("tab handle").to_string();
        self.switch_to(&handle).await;
        (handle, before.as_str().expect("handle").to_string())
    }

    /// Makes the tab with `handle` the one driven.
    pub async fn switch_to(&self, handle: &str) {
        self.post("/window", json!({ "handle": handle })).await;
    }

    /// Sends keys to whatever has the focus (inside shadow roots too).
    pub async fn keys(&self, text: &str) {
        let actions: Vec<Value> = text
            .chars()
            .flat_map(|c| {
                [
                    json!({"type": "keyDown", "value": c.to_string()}),
                    json!({"type": "keyUp", "value": c.to_string()}),
                ]
            })
            .collect();
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
    }

    /// Presses and releases at the point `(x, y)` of the viewport, as a finger would: whatever
    /// is drawn on top there gets the click, not a chosen element.
    pub async fn tap_at(&self, x: f64, y: f64) {
        let point = json!({"type": "pointerMove", "duration": 0, "origin": "viewport",
                           "x": x.round() as i64, "y": y.round() as i64});
        let answer = self
            .post(
                "/actions",
                json!({"actions": [{"type": "pointer", "id": "finger",
                    "parameters": {"pointerType": "mouse"},
                    "actions": [point, {"type": "pointerDown", "button": 0},
                                {"type": "pointerUp", "button": 0}]}]}),
            )
            .await;
        assert!(answer.is_null(), "tap failed: {answer}");
        self.command(reqwest::Method::DELETE, "/actions", None)
            .await;
    }

    /// Saves a PNG of the window.
    pub async fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let data = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("screenshot data"))
            .expect("base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot dir");
        }
        std::fs::write(path, png).expect("write screenshot");
    }
}

impl Element {
    /// Wraps an element reference returned by a script.
    pub fn from_value(value: Value) -> Self {
        Self(value)
    }

    fn id(&self) -> String {
        self.0[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("not an element: {}", self.0))
            .to_string()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session makes chromedriver close its chromium; then chromedriver goes.
        if let Some(rest) = self.session.strip_prefix("http://") {
            if let Some((host, path)) = rest.split_once('/') {
                use std::io::{Read, Write};
                if let Ok(mut stream) = std::net::TcpStream::connect(host) {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let _ = write!(
                        stream,
                        "DELETE /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                    let mut answer = Vec::new();
                    let _ = stream.read_to_end(&mut answer);
                }
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
