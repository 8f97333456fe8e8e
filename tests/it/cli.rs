//! The binary as an operator runs it: configuration errors, `migrate`, `user create`, `serve`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{TestDb, ADMIN_EMAIL};
use crate::process::{HubProcess, BIN};

/// The binary in an empty folder (no config/ or .env), with only the given settings.
fn switchboard(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", dir.join("data"))
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

#[test]
fn bad_configuration_stops_with_one_line_naming_the_setting() {
    let dir = tempfile::tempdir().expect("dir");
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("DATABASE_URL", "ftp://x")], "DATABASE_URL"),
        (&[("PORT", "eighty")], "PORT"),
        (
            &[("SWITCHBOARD_ENV", "production"), ("JWT_SECRET", "short")],
            "JWT_SECRET",
        ),
        (&[("SWITCHBOARD_ENV", "production")], "JWT_SECRET"),
        (&[("BIND_ADDR", "localhost")], "BIND_ADDR"),
    ];
    for (env, setting) in cases {
        let out = switchboard(dir.path(), &["serve"], env)
            .output()
            .expect("run");
        assert!(!out.status.success(), "{env:?} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one line for {env:?}, got {stderr}"
        );
        assert!(
            lines[0].contains(setting),
            "{} does not name {setting}",
            lines[0]
        );
    }
}

#[test]
fn help_is_available_for_every_command() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["user", "create", "--help"],
        &["account", "create", "--help"],
        &["secrets", "rotate", "--help"],
    ] {
        let out = Command::new(BIN).args(args).output().expect("run");
        assert!(out.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
    }
}

#[test]
fn migrate_is_idempotent_and_user_create_reads_the_password_from_the_environment() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().expect("dir");
    let env = [("DATABASE_URL", db.url.as_str())];
    for _ in 0..2 {
        let out = switchboard(dir.path(), &["migrate"], &env)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = switchboard(dir.path(), &["migrate"], &env)
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));

    // No account yet: user create explains what to do.
    let create = |email: &str| {
        switchboard(
            dir.path(),
            &[
                "user",
                "create",
                "--email",
                email,
                "--name",
                "Ana",
                "--role",
                "supervisor",
            ],
            &[
                ("DATABASE_URL", db.url.as_str()),
                ("SWITCHBOARD_USER_PASSWORD", "a-long-enough-password"),
            ],
        )
        .output()
        .expect("run")
    };
    let out = create("ana@example.com");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account"));

    bootstrap_account(&db);
    let out = create("Ana@Example.com");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = create("ana@example.COM");
    assert!(
        !out.status.success(),
        "emails are unique case-insensitively"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));

    let url = switchboard::store::connection::DatabaseUrl::parse(&db.url).expect("url");
    let pool =
        switchboard::store::connection::build_pool(&url, 1, Duration::from_secs(5)).expect("pool");
    let mut conn = pool.get().expect("conn");
    let user = switchboard::store::users::find_by_email(&mut conn, "ANA@example.com")
        .expect("query")
        .expect("stored");
    assert_eq!(user.role.as_str(), "supervisor");
    assert!(
        !user.can_receive_new_chats,
        "supervisors do not take chats by default"
    );
    let hash = user.password_hash.expect("password set");
    assert!(switchboard::auth::password::verify(
        "a-long-enough-password",
        &hash
    ));
}

#[test]
fn secrets_rotate_reseals_every_key_under_the_new_key_or_changes_nothing() {
    use switchboard::secrets::{Keyring, SecretsKey};
    use switchboard::store::ai_settings::{self, AiSettingsRow};
    let (old, new, wrong) = ("11".repeat(32), "22".repeat(32), "33".repeat(32));
    let key = |hex: &str| Some(SecretsKey::parse(hex).expect("key"));
    let db = TestDb::new();
    let dir = tempfile::tempdir().expect("dir");
    let out = switchboard(
        dir.path(),
        &["migrate"],
        &[("DATABASE_URL", db.url.as_str())],
    )
    .output()
    .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    bootstrap_account(&db);
    let url = switchboard::store::connection::DatabaseUrl::parse(&db.url).expect("url");
    let pool =
        switchboard::store::connection::build_pool(&url, 1, Duration::from_secs(5)).expect("pool");
    let sealed = Keyring {
        current: key(&old),
        old: None,
    }
    .seal("sk-rotate-me-4242")
    .expect("sealed");
    {
        let mut conn = pool.get().expect("conn");
        let account = switchboard::store::accounts::first(&mut conn)
            .expect("query")
            .expect("account");
        let row = AiSettingsRow {
            account_id: account.id,
            api_key_sealed: Some(sealed.clone()),
            api_key_last4: Some("4242".into()),
            updated_at: chrono::Utc::now().naive_utc(),
            ..Default::default()
        };
        ai_settings::save(&mut conn, &row).expect("saved");
    }
    let stored = || {
        ai_settings::sealed_keys(&mut pool.get().expect("conn")).expect("query")[0]
            .2
            .clone()
    };
    let rotate = |current: &str, previous: &str| {
        switchboard(
            dir.path(),
            &["secrets", "rotate"],
            &[
                ("DATABASE_URL", db.url.as_str()),
                ("SECRETS_KEY", current),
                ("SECRETS_KEY_OLD", previous),
            ],
        )
        .output()
        .expect("run")
    };

    // An old key that opens nothing: refused, nothing changed.
    let out = rotate(&new, &wrong);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was changed"));
    assert_eq!(stored(), sealed);

    let out = rotate(&new, &old);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("resealed 1"));
    let rotated = stored();
    assert_ne!(rotated, sealed);
    assert!(!rotated.contains("sk-rotate"));
    let only_new = Keyring {
        current: key(&new),
        old: None,
    };
    assert!(only_new.is_current(&rotated));
    assert_eq!(
        only_new.open(&rotated).expect("opens").expose(),
        "sk-rotate-me-4242"
    );
    assert!(Keyring {
        current: key(&old),
        old: None
    }
    .open(&rotated)
    .is_err());
}

fn bootstrap_account(db: &TestDb) {
    let url = switchboard::store::connection::DatabaseUrl::parse(&db.url).expect("url");
    let pool =
        switchboard::store::connection::build_pool(&url, 1, Duration::from_secs(5)).expect("pool");
    let mut conn = pool.get().expect("conn");
    switchboard::store::accounts::create(&mut conn, "Acme").expect("account");
}

#[test]
fn serve_creates_the_first_admin_answers_health_and_stops_on_sigterm() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().expect("dir");
    let started = Instant::now();
    // PORT replaces the port of BIND_ADDR (1 would need root): 0 lets the hub pick one.
    let hub = HubProcess::start(switchboard(
        dir.path(),
        &["serve"],
        &[
            ("DATABASE_URL", db.url.as_str()),
            ("BIND_ADDR", "127.0.0.1:1"),
            ("PORT", "0"),
            ("ADMIN_EMAIL", ADMIN_EMAIL),
        ],
    ));
    assert_ne!(hub.addr, "127.0.0.1:1", "PORT replaces BIND_ADDR's port");
    let healthy = probe::wait_healthy(&format!("{}/api/health", hub.base()), started);
    let (status, log) = hub.terminate();
    assert!(healthy, "the hub never became healthy; log:\n{log}");
    assert!(
        status.success(),
        "SIGTERM should stop the hub cleanly ({status}):\n{log}"
    );
    assert!(
        log.contains("generated password"),
        "the generated admin password is logged once:\n{log}"
    );
    assert!(log.contains("stopped"));
}

mod probe {
    //! A tiny blocking GET for the process test, without a second HTTP client crate.
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    /// POSTs a JSON body; the whole raw answer.
    pub fn post_json(host: &str, path: &str, body: &str) -> String {
        let Ok(mut s) = std::net::TcpStream::connect(host) else {
            return String::new();
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let _ = write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        answer
    }

    /// Polls `url` until it answers 200 with `"status":"ok"`, for up to 60 s from `started`.
    pub fn wait_healthy(url: &str, started: Instant) -> bool {
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(mut s) = std::net::TcpStream::connect(host) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = write!(
                    s,
                    "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                );
                let mut body = String::new();
                let _ = s.read_to_string(&mut body);
                if body.starts_with("HTTP/1.1 200") && body.contains(r#""status":"ok""#) {
                    eprintln!("healthy after {:?}", started.elapsed());
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

/// A port nobody listens on: bound, then released.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

#[test]
fn the_example_env_starts_a_fresh_hub_whose_log_holds_no_errors_and_no_tokens() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/.env_example"),
        dir.path().join(".env"),
    )
    .expect("copy .env_example");
    let started = Instant::now();
    let hub = HubProcess::start(switchboard(
        dir.path(),
        &["serve"],
        &[
            ("BIND_ADDR", "127.0.0.1:0"),
            ("ADMIN_PASSWORD", "admin-password-123"),
        ],
    ));
    let bind = hub.addr.clone();
    let healthy = probe::wait_healthy(&format!("http://{bind}/api/health"), started);
    // The container health check: `switchboard health` asks the local listener.
    let health = switchboard(dir.path(), &["health"], &[("BIND_ADDR", bind.as_str())])
        .output()
        .expect("health");
    let reset = healthy
        && probe::post_json(
            &bind,
            "/api/auth/password-reset",
            r#"{"email":"admin@example.com"}"#,
        )
        .starts_with("HTTP/1.1 202");
    // The mail lands in the outbox (written whole, then renamed into place).
    let outbox = dir.path().join("data").join("outbox");
    let mut mail = None;
    while reset && mail.is_none() && started.elapsed() < Duration::from_secs(60) {
        mail = std::fs::read_dir(&outbox)
            .ok()
            .and_then(|mut d| d.find_map(|e| e.ok()))
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .and_then(|e| std::fs::read_to_string(e.path()).ok());
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, log) = hub.terminate();
    assert!(healthy, "the example .env does not start the hub:\n{log}");
    assert!(
        health.status.success(),
        "`switchboard health` on a healthy hub: {}",
        String::from_utf8_lossy(&health.stderr)
    );
    let nobody = format!("127.0.0.1:{}", free_port());
    let down = switchboard(dir.path(), &["health"], &[("BIND_ADDR", nobody.as_str())])
        .output()
        .expect("health");
    assert!(!down.status.success(), "no hub listening is unhealthy");
    assert!(reset, "the reset request was not accepted:\n{log}");
    let mail = mail.expect("a reset mail in the outbox");
    let token = crate::helpers::token_from_mail(&mail);
    assert_eq!(token.len(), 64, "{mail}");
    assert!(
        !log.contains(&token),
        "the reset token reached the log:\n{log}"
    );
    assert!(
        log.contains("outbox"),
        "the log says where the mail went:\n{log}"
    );
    assert!(
        !log.contains("\"level\":\"ERROR\"") && !log.contains("database is locked"),
        "a fresh start logs no error:\n{log}"
    );
}

#[test]
fn a_bad_env_line_is_named_by_file_line_and_setting() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join(".env"),
        "# settings\nLOG_FORMAT=json\nMAIL_FROM=Support <help@example.com>\n",
    )
    .expect("write .env");
    let out = switchboard(dir.path(), &["serve"], &[])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(".env line 3: MAIL_FROM"), "{stderr}");
}

#[test]
fn the_readme_names_the_rust_version_the_manifest_requires() {
    let manifest = include_str!("../../Cargo.toml");
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("rust-version in Cargo.toml")
        .trim_matches('"');
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(&format!("Rust toolchain ({version} or newer)")),
        "README and Cargo.toml disagree on the Rust version ({version})"
    );
}

#[test]
fn the_operator_manages_accounts_from_the_command_line() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().expect("dir");
    let env = [("DATABASE_URL", db.url.as_str())];
    let run = |args: &[&str]| {
        let out = switchboard(dir.path(), args, &env).output().expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.success(), stdout, stderr)
    };
    let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("json");

    let (ok, out, err) = run(&[
        "account",
        "create",
        "--name",
        "Cycle Shop",
        "--admin-email",
        "Owner@Cycles.test",
        "--time-zone",
        "Europe/Berlin",
    ]);
    assert!(ok, "{err}");
    let created = json(&out);
    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["admin"]["email"], "owner@cycles.test");
    let invitations: Vec<String> = std::fs::read_dir(dir.path().join("data/outbox"))
        .expect("outbox")
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    assert!(
        invitations.iter().any(|m| m.contains("owner@cycles.test")
            && crate::helpers::decode_quoted_printable(m).contains("/accept-invite?token=")),
        "the admin is mailed an invitation"
    );
    let (ok, _, err) = run(&[
        "account",
        "create",
        "--name",
        "Again",
        "--admin-email",
        "owner@cycles.test",
    ]);
    assert!(!ok && err.contains("email_taken"), "{err}");
    let (ok, _, err) = run(&[
        "account",
        "create",
        "--name",
        "Odd",
        "--admin-email",
        "x@y.test",
        "--time-zone",
        "Nowhere/Land",
    ]);
    assert!(!ok && err.contains("invalid_time_zone"), "{err}");

    let id_arg = id.to_string();
    let (ok, out, _) = run(&["account", "suspend", &id_arg]);
    assert!(ok);
    assert_eq!(json(&out)["status"], "suspended");
    let (ok, out, _) = run(&["account", "list"]);
    assert!(ok);
    let listed: Vec<serde_json::Value> = out.lines().map(json).collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "suspended");
    let (ok, out, _) = run(&["account", "resume", &id_arg]);
    assert!(ok);
    assert_eq!(json(&out)["status"], "active");

    let (ok, _, err) = run(&["account", "delete", &id_arg]);
    assert!(
        !ok && err.contains("--yes"),
        "erasing asks for confirmation: {err}"
    );
    let (ok, out, err) = run(&["account", "delete", &id_arg, "--yes"]);
    assert!(ok, "{err}");
    let erased = json(&out);
    assert_eq!(erased["removed"]["accounts"], 1);
    assert_eq!(erased["removed"]["users"], 1);
    let (ok, out, _) = run(&["account", "list"]);
    assert!(ok && out.trim().is_empty(), "{out}");
    let (ok, _, err) = run(&["account", "suspend", &id_arg]);
    assert!(!ok && err.contains("not_found"), "{err}");
}
