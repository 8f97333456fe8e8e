//! A fake receiver of the hub's outgoing webhooks that can fail at first, and their signature.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

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
