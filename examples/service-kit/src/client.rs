//! A minimal HTTP/1.1 client for the services' end-to-end tests and benchmarks: one request
//! per connection, the JSON body parsed (and the headers, with [`send`]).

use serde_json::Value;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one request (`Connection: close`) and returns the status and the body as JSON
/// (`null` when empty, a JSON string when it is not JSON). Panics when the server cannot be
/// reached or answers something that is not HTTP: in a test, that is the failure.
pub async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    if let Some(a) = authorization {
        request.push_str(&format!("Authorization: {a}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let reply = send(addr, request.as_bytes()).await;
    (reply.status, reply.body)
}

/// An answer as [`send`] reads it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The status line and the headers, as received.
    pub head: String,
    /// The body as JSON (`null` when empty, a JSON string when it is not JSON).
    pub body: Value,
}

impl Reply {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Writes `request` as it is (a whole HTTP/1.1 request, which should say `Connection:
/// close`) and reads the answer to the end of the connection. Panics as [`call`] does.
pub async fn send(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    let line = String::from_utf8_lossy(&request[..request.len().min(60)]);
    let line = line.lines().next().unwrap_or_default().to_string();
    stream
        .write_all(request)
        .await
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    parse(&line, &response)
}

/// The answer in `response` (everything the server sent) to the request `line`; panics
/// when it is not HTTP.
pub fn parse(line: &str, response: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{line}: not an HTTP response: {text:?}"));
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{line}: no status in {head:?}"));
    let body = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap_or(Value::String(body.into()))
    };
    Reply {
        status,
        head: head.to_string(),
        body,
    }
}
