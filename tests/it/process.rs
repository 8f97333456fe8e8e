//! The hub binary as a child process: it binds a port of its own choosing (`BIND_ADDR` with
//! port 0) and the test reads which from its `listening` log line, so no port is ever picked
//! by the test, released, and raced for.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The path of the hub binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A running hub process and everything it has logged so far.
pub struct HubProcess {
    child: Child,
    log: Arc<Mutex<String>>,
    /// `127.0.0.1:<port>`, as the hub reported it.
    pub addr: String,
}

impl HubProcess {
    /// Spawns `command` (which must set `BIND_ADDR` to port 0 and log JSON at info level for
    /// `switchboard::server`) and waits up to 60 s for its `listening` line.
    pub fn start(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the hub");
        let log = Arc::new(Mutex::new(String::new()));
        let (found, listening) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        keep_lines(stdout, log.clone(), Some(found));
        keep_lines(stderr, log.clone(), None);
        let addr = match listening.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the hub never said where it listens; log:\n{}",
                    log.lock().expect("log")
                );
            }
        };
        Self { child, log, addr }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything logged so far, stdout and stderr.
    pub fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    /// SIGKILL, as a crash or the OOM killer would, and reaps the process.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// SIGTERM, then waits (up to 30 s) for the process to exit; its status and whole log.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                // The reader threads end with the pipes; give them a moment to take the rest.
                std::thread::sleep(Duration::from_millis(100));
                return (status, self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill();
        panic!("the hub did not stop on SIGTERM; log:\n{}", self.log());
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Copies each line of `stream` into `log` on a thread of its own; the first `listening`
/// line's address goes to `found`.
fn keep_lines(
    stream: impl Read + Send + 'static,
    log: Arc<Mutex<String>>,
    mut found: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if let Some(addr) = found.as_ref().and_then(|_| listening_addr(&line)) {
                if let Some(found) = found.take() {
                    let _ = found.send(addr);
                }
            }
            let mut log = log.lock().expect("log");
            log.push_str(&line);
            log.push('\n');
        }
    });
}

/// The address of a JSON `listening` log line.
fn listening_addr(line: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    (value["message"] == "listening").then(|| value["addr"].as_str().map(str::to_string))?
}
