//! Where the binary finds `config/*.toml` when it is started from another folder, and the log
//! line that says which files it read.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::process::BIN;

/// `switchboard migrate` run as `binary` in `working`, with only PATH and the given settings;
/// whether it succeeded, and its log.
fn migrate(binary: &Path, working: &Path, env: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(binary);
    command
        .arg("migrate")
        .current_dir(working)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().expect("run");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), log)
}

/// A `config/default.toml` in `root` that puts the data folder in `root/<data>`; its path.
fn config_folder(root: &Path, data: &str) -> PathBuf {
    let config = root.join("config");
    std::fs::create_dir_all(&config).expect("config dir");
    let data = root.join(data).display().to_string();
    std::fs::write(
        config.join("default.toml"),
        format!("data_dir = {data:?}\nlog_format = \"text\"\n"),
    )
    .expect("default.toml");
    std::fs::write(config.join("production.toml"), "log_format = \"json\"\n").expect("toml");
    config
}

/// The line that says which configuration files were read.
fn read_line(log: &str) -> &str {
    log.lines()
        .find(|l| l.contains("configuration read from"))
        .unwrap_or_else(|| panic!("no line says which files were read:\n{log}"))
}

#[test]
fn a_start_from_another_folder_finds_the_config_folder_and_says_which_files_it_read() {
    // Installed as /opt/switchboard/bin/switchboard beside /opt/switchboard/config.
    let install = tempfile::tempdir().expect("install dir");
    let working = tempfile::tempdir().expect("working dir");
    std::fs::create_dir_all(install.path().join("bin")).expect("bin dir");
    let binary = install.path().join("bin").join("switchboard");
    std::fs::hard_link(BIN, &binary)
        .or_else(|_| std::fs::copy(BIN, &binary).map(drop))
        .expect("install the binary");
    let installed = config_folder(install.path(), "installed-data");

    let (ok, log) = migrate(&binary, working.path(), &[]);
    assert!(ok, "{log}");
    assert!(
        install
            .path()
            .join("installed-data")
            .join("switchboard.db")
            .exists(),
        "the config folder of the installation applies, wherever the start is from:\n{log}"
    );
    let line = read_line(&log);
    assert!(
        line.contains(&installed.join("default.toml").display().to_string()),
        "{line}"
    );
    assert!(
        !line.contains("production.toml"),
        "only the files read: {line}"
    );

    // SWITCHBOARD_CONFIG_DIR names another folder, which wins.
    let elsewhere = tempfile::tempdir().expect("elsewhere");
    let named = config_folder(elsewhere.path(), "named-data");
    let dir = named.display().to_string();
    let (ok, log) = migrate(
        &binary,
        working.path(),
        &[("SWITCHBOARD_CONFIG_DIR", dir.as_str())],
    );
    assert!(ok, "{log}");
    assert!(
        elsewhere
            .path()
            .join("named-data")
            .join("switchboard.db")
            .exists(),
        "{log}"
    );
    assert!(read_line(&log).contains(&named.join("default.toml").display().to_string()));
    assert!(
        !working.path().join("data").exists(),
        "nothing fell back to the working folder"
    );

    // Nothing to find: the hub still runs on its defaults, and warns that no file was read.
    std::fs::remove_dir_all(&installed).expect("remove config");
    let (ok, log) = migrate(&binary, working.path(), &[]);
    assert!(ok, "{log}");
    assert!(
        log.contains("WARN") && log.contains("no config folder found"),
        "a start without configuration files says so:\n{log}"
    );
    assert!(working.path().join("data").join("switchboard.db").exists());
}
