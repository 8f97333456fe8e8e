//! A lean HTTP/1.1 client for the webhook load: one kept-alive connection per sender, each
//! request written whole in one call and each response read by its Content-Length, so the
//! load generator takes little of the CPU it shares with the hub on one machine.

use std::io::Write;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One sender's connection to the hub; it connects again after an error.
pub struct Connection {
    address: String,
    host: String,
    stream: Option<TcpStream>,
    request: Vec<u8>,
    response: Vec<u8>,
}

impl Connection {
    /// A connection to the hub at `base` (`http://host:port`; plain HTTP only).
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let host = base
            .strip_prefix("http://")
            .ok_or_else(|| anyhow::anyhow!("the webhook load speaks plain http:// only: {base}"))?
            .trim_end_matches('/')
            .to_string();
        let address = if host.contains(':') {
            host.clone()
        } else {
            format!("{host}:80")
        };
        Ok(Self {
            address,
            host,
            stream: None,
            request: Vec::with_capacity(1024),
            response: Vec::with_capacity(1024),
        })
    }

    /// POSTs a JSON body with the given extra header; answers the response's status code.
    pub async fn post_json(
        &mut self,
        path: &str,
        header: (&str, &str),
        body: &[u8],
    ) -> anyhow::Result<u16> {
        self.request.clear();
        write!(
            self.request,
            "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n{}: {}\r\ncontent-length: {}\r\n\r\n",
            self.host,
            header.0,
            header.1,
            body.len()
        )?;
        self.request.extend_from_slice(body);
        let result = self.exchange().await;
        if !matches!(result, Ok((_, true))) {
            // An error or `connection: close`: the next request opens a new connection.
            self.stream = None;
        }
        result.map(|(status, _)| status)
    }

    /// Writes the request and reads one response: its status, and whether the connection
    /// stays open.
    async fn exchange(&mut self) -> anyhow::Result<(u16, bool)> {
        let stream = match &mut self.stream {
            Some(stream) => stream,
            none => {
                let stream = TcpStream::connect(&self.address).await?;
                stream.set_nodelay(true)?;
                none.insert(stream)
            }
        };
        stream.write_all(&self.request).await?;
        self.response.clear();
        let head_end = loop {
            if let Some(end) = find(&self.response, b"\r\n\r\n") {
                break end + 4;
            }
            read_more(stream, &mut self.response).await?;
        };
        let head = std::str::from_utf8(&self.response[..head_end])?;
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("not an HTTP response: {head:?}"))?;
        let mut length = 0usize;
        let mut keep_alive = true;
        for line in head.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse()?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                anyhow::bail!("chunked responses are not read here");
            } else if name.eq_ignore_ascii_case("connection") {
                keep_alive = !value.trim().eq_ignore_ascii_case("close");
            }
        }
        while self.response.len() < head_end + length {
            read_more(stream, &mut self.response).await?;
        }
        Ok((status, keep_alive))
    }
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<()> {
    let mut chunk = [0u8; 4096];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        anyhow::bail!("the hub closed the connection");
    }
    buffer.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
