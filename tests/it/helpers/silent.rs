//! A fake outside service that accepts connections and never answers.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::net::TcpListener;

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
