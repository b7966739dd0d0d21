//! Chapter 7: the smallest HTTP/1.1 server side the cluster needs: parse a request head
//! out of a buffer, and write a response with a `Content-Length`.
//!
//! A connection stays open for the next request (keep-alive) unless the request says
//! `Connection: close` or is HTTP/1.0 without `Connection: keep-alive`. Bodies are read
//! by `Content-Length` and ignored; anything the parser does not understand is an error
//! that the worker answers with `400 Bad Request` before it closes that one connection.

use std::io::{self, Write};

/// The longest request head (request line plus headers) a worker reads.
pub const MAX_HEAD: usize = 8 * 1024;
/// The longest request body a worker reads (and throws away).
pub const MAX_BODY: usize = 64 * 1024;

/// One parsed request: the parts the server looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub keep_alive: bool,
}

/// What [`parse`] found at the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Not a whole request yet: read more.
    Incomplete,
    /// A request that took the first `len` bytes (head and body).
    Request { request: Request, len: usize },
    /// Not HTTP/1.x as this server reads it; the reason goes into the `400` body.
    Bad(String),
}

// ANCHOR: parse
/// Parse one request from the start of `buf`.
pub fn parse(buf: &[u8]) -> Parsed {
    let Some(head_len) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > MAX_HEAD {
            Parsed::Bad(format!("request head longer than {MAX_HEAD} bytes"))
        } else {
            Parsed::Incomplete
        };
    };
    if head_len > MAX_HEAD {
        return Parsed::Bad(format!("request head longer than {MAX_HEAD} bytes"));
    }
    let Ok(head) = std::str::from_utf8(&buf[..head_len]) else {
        return Parsed::Bad("request head is not UTF-8".into());
    };
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(path), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Parsed::Bad(format!("bad request line {line:?}"));
    };
    if method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || !path.starts_with('/')
    {
        return Parsed::Bad(format!("bad request line {line:?}"));
    }
    let mut keep_alive = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Parsed::Bad(format!("unsupported version {version:?}")),
    };
    let mut body_len = 0;
    for header in lines {
        let Some((name, value)) = header.split_once(':') else {
            return Parsed::Bad(format!("header without a colon: {header:?}"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                keep_alive = false;
            } else if value.eq_ignore_ascii_case("keep-alive") {
                keep_alive = true;
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            match value.parse::<usize>() {
                Ok(n) if n <= MAX_BODY => body_len = n,
                _ => return Parsed::Bad(format!("bad Content-Length {value:?}")),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Parsed::Bad("Transfer-Encoding is not supported".into());
        }
    }
    let len = head_len + 4 + body_len;
    if buf.len() < len {
        return Parsed::Incomplete;
    }
    Parsed::Request {
        request: Request {
            method: method.to_string(),
            path: path.to_string(),
            keep_alive,
        },
        len,
    }
}
// ANCHOR_END: parse

/// Write a `text/plain` response; `keep_alive: false` adds `Connection: close`.
pub fn respond(
    out: &mut impl Write,
    status: u16,
    reason: &str,
    body: &str,
    keep_alive: bool,
) -> io::Result<()> {
    respond_with(out, status, reason, body, body.len(), "", keep_alive)
}

/// [`respond`] with extra header lines (each ending in `\r\n`, such as `Allow` on a `405`)
/// and a `Content-Length` of its own: an answer to `HEAD` has no body but announces the
/// length a `GET` would get.
pub fn respond_with(
    out: &mut impl Write,
    status: u16,
    reason: &str,
    body: &str,
    length: usize,
    extra: &str,
    keep_alive: bool,
) -> io::Result<()> {
    let connection = if keep_alive {
        ""
    } else {
        "Connection: close\r\n"
    };
    // One write per response: one system call, one TCP segment for a small answer.
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {length}\r\n{extra}{connection}\r\n{body}"
    );
    out.write_all(response.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(buf: &[u8]) -> (Request, usize) {
        match parse(buf) {
            Parsed::Request { request, len } => (request, len),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keep_alive_follows_version_and_connection_header() {
        let (r, len) = request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET");
        assert_eq!((r.path.as_str(), r.keep_alive, len), ("/", true, 27));
        assert!(
            !request(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
                .0
                .keep_alive
        );
        assert!(!request(b"GET / HTTP/1.0\r\n\r\n").0.keep_alive);
        assert!(
            request(b"GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n")
                .0
                .keep_alive
        );
    }

    #[test]
    fn a_body_is_part_of_the_request() {
        assert_eq!(
            parse(b"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nab"),
            Parsed::Incomplete
        );
        assert_eq!(
            request(b"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET").1,
            42
        );
    }

    #[test]
    fn partial_heads_are_incomplete_and_garbage_is_bad() {
        for partial in [&b""[..], b"GET / HT", b"GET / HTTP/1.1\r\nHost: x\r\n"] {
            assert_eq!(parse(partial), Parsed::Incomplete, "{partial:?}");
        }
        for bad in [
            &b"hello\r\n\r\n"[..],
            b"GET / HTTP/1.1 extra\r\n\r\n",
            b"get / HTTP/1.1\r\n\r\n",
            b"GET nopath HTTP/1.1\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
            b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"GET /\xff HTTP/1.1\r\n\r\n",
        ] {
            assert!(matches!(parse(bad), Parsed::Bad(_)), "{bad:?}");
        }
        assert!(matches!(parse(&[b'a'; MAX_HEAD + 1]), Parsed::Bad(_)));
    }
}
