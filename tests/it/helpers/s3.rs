//! An S3-compatible server of the test's own: moto's server mode (PyPI `moto[server]`), which
//! speaks S3's REST protocol with SigV4 on a local port and keeps objects in memory. Without
//! it the S3 tests say they are skipped, unless `SWITCHBOARD_S3_TESTS=required` (CI), where
//! that is a failure.

use std::process::{Child, Command, Stdio};

use switchboard::config::RawSettings;

/// The bucket every test server has.
pub const BUCKET: &str = "switchboard-media";

/// A running moto S3 server with one bucket.
pub struct S3Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl S3Server {
    /// Starts a server with the bucket; `None` (skipped) where moto is not installed.
    pub async fn start() -> Option<Self> {
        let required = std::env::var("SWITCHBOARD_S3_TESTS").as_deref() == Ok("required");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let spawned = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) => {
                assert!(
                    !required,
                    "S3 tests are required here, but moto_server cannot start: {e}"
                );
                eprintln!("SKIPPED: moto_server is not installed (pip install 'moto[server]')");
                return None;
            }
        };
        let server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let created = client.put(format!("{}/{BUCKET}", server.url)).send().await;
            if created.is_ok_and(|r| r.status().is_success()) {
                return Some(server);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("moto_server never answered on {}", server.url);
    }

    /// Points a hub's media store at this server's bucket.
    pub fn configure(&self, settings: &mut RawSettings) {
        settings.set(
            "MEDIA_URL",
            format!("s3://{BUCKET}?endpoint={}&region=us-east-1", self.url),
        );
        settings.set("MEDIA_S3_ACCESS_KEY_ID", "testing");
        settings.set("MEDIA_S3_SECRET_ACCESS_KEY", "testing");
    }

    /// The keys of the objects in the bucket (S3's ListObjectsV2).
    pub async fn keys(&self) -> Vec<String> {
        let listing = reqwest::get(format!("{}/{BUCKET}?list-type=2", self.url))
            .await
            .expect("list the bucket")
            .text()
            .await
            .expect("listing");
        listing
            .split("<Key>")
            .skip(1)
            .filter_map(|part| part.split("</Key>").next())
            .map(str::to_string)
            .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
