//! A tiny HTTP/1.1 client for the labs' tests: one request per connection
//! (`Connection: close`), the whole response read to end of file, then parsed.
//!
//! It understands exactly what the labs' servers send: a status line, headers, and a body
//! delimited by `Content-Length` or by the end of the connection. Anything else
//! (chunked bodies, a malformed status line) is an `InvalidData` error, never a panic.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};

use crate::DEFAULT_TIMEOUT;

/// A parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` on `addr`.
pub fn get(addr: SocketAddr, path: &str) -> io::Result<Response> {
    request(addr, "GET", path, b"")
}

/// Send one request with an optional body and parse the response.
pub fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> io::Result<Response> {
    let mut raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    parse_response(&send_raw(addr, &raw)?)
}

/// Write raw bytes (a request, or garbage on purpose), then read everything the server
/// sends until it closes the connection.
pub fn send_raw(addr: SocketAddr, bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect_timeout(&addr, DEFAULT_TIMEOUT)?;
    stream.set_read_timeout(Some(DEFAULT_TIMEOUT))?;
    stream.set_write_timeout(Some(DEFAULT_TIMEOUT))?;
    stream.write_all(bytes)?;
    // Half-close: tell the server we have nothing more to send.
    stream.shutdown(std::net::Shutdown::Write)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    Ok(response)
}

/// Parse a complete response (as read to end of file).
pub fn parse_response(raw: &[u8]) -> io::Result<Response> {
    let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers (\\r\\n\\r\\n) in the response".into()))?;
    let head =
        std::str::from_utf8(&raw[..split]).map_err(|_| bad("headers are not UTF-8".into()))?;
    let mut head_lines = head.split("\r\n");
    let status_line = head_lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (version, code, reason) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
    if !matches!(version, Some("HTTP/1.1" | "HTTP/1.0")) {
        return Err(bad(format!("not an HTTP/1.x status line: {status_line:?}")));
    }
    let status = code
        .and_then(|c| c.parse().ok())
        .filter(|c| (100..1000).contains(c))
        .ok_or_else(|| bad(format!("bad status code in {status_line:?}")))?;
    let mut headers = Vec::new();
    for line in head_lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("header without a colon: {line:?}")))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let response = Response {
        status,
        reason: reason.to_string(),
        headers,
        body: String::new(),
    };
    if response
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        return Err(bad(
            "chunked bodies are not supported by this test client".into()
        ));
    }
    let body = &raw[split + 4..];
    let body = match response.header("content-length") {
        Some(len) => {
            let len: usize = len
                .parse()
                .map_err(|_| bad(format!("bad Content-Length {len:?}")))?;
            body.get(..len).ok_or_else(|| {
                bad(format!(
                    "body truncated: Content-Length {len}, got {} bytes",
                    body.len()
                ))
            })?
        }
        None => body,
    };
    Ok(Response {
        body: String::from_utf8_lossy(body).into_owned(),
        ..response
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// Serve one connection with a canned answer; return the address and a handle that
    /// yields the request the server received.
    fn serve_once(answer: &'static [u8]) -> (SocketAddr, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            conn.read_to_end(&mut request).unwrap();
            conn.write_all(answer).unwrap();
            String::from_utf8(request).unwrap()
        });
        (addr, handle)
    }

    #[test]
    fn get_sends_a_well_formed_request_and_parses_the_answer() {
        let (addr, server) = serve_once(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
        );
        let response = get(addr, "/hi").unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.reason, "OK");
        assert_eq!(response.header("content-type"), Some("text/plain"));
        assert_eq!(response.body, "hello");
        let request = server.join().unwrap();
        assert!(request.starts_with("GET /hi HTTP/1.1\r\n"), "{request}");
        assert!(request.contains("\r\nConnection: close\r\n"));
        assert!(request.ends_with("\r\n\r\n"));
    }

    #[test]
    fn body_without_length_runs_to_end_of_connection() {
        let (addr, _server) = serve_once(b"HTTP/1.0 404 Not Found\r\n\r\nno such page");
        let response = get(addr, "/missing").unwrap();
        assert_eq!(
            (response.status, response.body.as_str()),
            (404, "no such page")
        );
    }

    #[test]
    fn malformed_responses_are_errors() {
        for raw in [
            &b"garbage"[..],
            b"SMTP 220 hello\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ] {
            let err = parse_response(raw).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{raw:?}");
        }
    }
}
