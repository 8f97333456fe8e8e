//! A fake SMTP server on a local port, and reading the links in the mail it collects.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::net::TcpListener;

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

/// The tokens of the mails in `app`'s outbox that link to `page` (e.g. `/accept-invite`),
/// once there are `count` of them.
pub async fn outbox_tokens(app: &super::TestApp, page: &str, count: usize) -> Vec<String> {
    let outbox = app.state.config.data_dir.join("outbox");
    let link = format!("{page}?token=");
    for _ in 0..200 {
        let mails: Vec<String> = std::fs::read_dir(&outbox)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .filter(|m| decode_quoted_printable(m).contains(&link))
                    .collect()
            })
            .unwrap_or_default();
        if mails.len() >= count {
            return mails.iter().map(|m| token_from_mail(m)).collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} mails linking to {page} in the outbox");
}
