//! Chapter 3: a small HTTP/1.1 layer of ours, the scaffolding of the lesson.
//!
//! It reads what the chapter's server needs and no more: a request line, header fields,
//! `Content-Length`, keep-alive. Everything else is a typed error with its status code,
//! never a panic: the parser is a pure function of the bytes received so far, so tests and
//! a property test can throw any input at it without a socket.

use std::fmt;

/// The most bytes a request's head (request line and header fields, up to and including
/// the empty line) may take: 8 KiB. A longer head is a `431`.
pub const MAX_HEAD: usize = 8 * 1024;
/// The largest body the server reads (and throws away): 8 KiB. A longer one is a `413`.
pub const MAX_BODY: usize = 8 * 1024;

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target as sent, e.g. `/compute?n=10`.
    pub target: String,
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body's length (0 without `Content-Length`).
    pub content_length: usize,
    /// Whether the connection stays open after the response.
    pub keep_alive: bool,
}

// ANCHOR: error
/// Everything that can be wrong with a request, each with the status code it is answered
/// with. After any of them the server answers and closes the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// 400: the request line is not `METHOD SP /target SP HTTP/1.x`.
    BadRequestLine(String),
    /// 400: a header field is not `name: value`.
    BadHeader(String),
    /// 400: `Content-Length` is not a number, or two of them disagree.
    BadContentLength(String),
    /// 400: the route is right but its query is not (`n` missing, not a number, too big).
    BadQuery(String),
    /// 400: the connection closed in the middle of a request (how much of it had come).
    Incomplete(String),
    /// 404: no such path.
    NotFound(String),
    /// 405: a method other than GET.
    MethodNotAllowed(String),
    /// 408: part of a request arrived, then nothing for the read time-out.
    Timeout,
    /// 413: a body over [`MAX_BODY`].
    BodyTooLarge(usize),
    /// 431: a head over [`MAX_HEAD`] bytes.
    HeadTooLarge,
    /// 501: `Transfer-Encoding` (chunked bodies are not implemented).
    TransferEncoding,
    /// 500: the server's own machinery failed (a compute child that died, say).
    Internal(String),
    /// 503: the pool's queue is full.
    Busy,
    /// 505: an HTTP version other than 1.0 and 1.1.
    Version(String),
}
// ANCHOR_END: error

impl HttpError {
    /// The status code and reason phrase this error is answered with.
    pub fn status(&self) -> (u16, &'static str) {
        match self {
            HttpError::BadRequestLine(_)
            | HttpError::BadHeader(_)
            | HttpError::BadContentLength(_)
            | HttpError::BadQuery(_)
            | HttpError::Incomplete(_) => (400, "Bad Request"),
            HttpError::NotFound(_) => (404, "Not Found"),
            HttpError::MethodNotAllowed(_) => (405, "Method Not Allowed"),
            HttpError::Timeout => (408, "Request Timeout"),
            HttpError::BodyTooLarge(_) => (413, "Content Too Large"),
            HttpError::HeadTooLarge => (431, "Request Header Fields Too Large"),
            HttpError::TransferEncoding => (501, "Not Implemented"),
            HttpError::Internal(_) => (500, "Internal Server Error"),
            HttpError::Busy => (503, "Service Unavailable"),
            HttpError::Version(_) => (505, "HTTP Version Not Supported"),
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::BadRequestLine(why) => write!(f, "bad request line: {why}"),
            HttpError::BadHeader(why) => write!(f, "bad header field: {why}"),
            HttpError::BadContentLength(v) => write!(f, "bad Content-Length: {v:?}"),
            HttpError::BadQuery(why) => write!(f, "{why}"),
            HttpError::Incomplete(what) => {
                write!(
                    f,
                    "the connection closed after {what}: an unfinished request"
                )
            }
            HttpError::NotFound(path) => write!(f, "no route for {path:?} (try / or /compute?n=N)"),
            HttpError::MethodNotAllowed(m) => write!(f, "method {m} is not allowed, use GET"),
            HttpError::Timeout => write!(f, "the request did not arrive within the read time-out"),
            HttpError::BodyTooLarge(n) => {
                write!(f, "a body of {n} bytes is over the limit of {MAX_BODY}")
            }
            HttpError::HeadTooLarge => write!(f, "the request head is over {MAX_HEAD} bytes"),
            HttpError::TransferEncoding => write!(f, "Transfer-Encoding is not supported"),
            HttpError::Internal(why) => write!(f, "{why}"),
            HttpError::Busy => write!(f, "the pool's queue is full, try again later"),
            HttpError::Version(v) => write!(f, "HTTP version {v:?} is not supported"),
        }
    }
}

impl std::error::Error for HttpError {}

/// A token character (RFC 9110 §5.6.2): what methods and header names are made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

// ANCHOR: parse_head
/// Parse the head at the start of `buf`, the bytes received so far on a connection.
///
/// - `Ok(Some((request, used)))`: a complete head of `used` bytes (the body, if any, and
///   pipelined requests follow it in `buf`);
/// - `Ok(None)`: no complete head yet and still under [`MAX_HEAD`]: read more;
/// - `Err(e)`: the head is malformed or too large: answer `e.status()` and close.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Request, usize)>, HttpError> {
    let window = &buf[..buf.len().min(MAX_HEAD)];
    let Some(end) = window.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() >= MAX_HEAD {
            Err(HttpError::HeadTooLarge)
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|e| {
        // Say which part is not UTF-8: the request line, or a header field after it.
        let line_end = buf.windows(2).position(|w| w == b"\r\n").unwrap_or(end);
        if e.valid_up_to() < line_end {
            HttpError::BadRequestLine("the request line is not UTF-8".into())
        } else {
            HttpError::BadHeader("a header field is not UTF-8".into())
        }
    })?;
    let mut lines = head.split("\r\n");
    let (method, target, minor) = request_line(lines.next().unwrap_or(""))?;

    let mut headers = Vec::new();
    let mut content_length: Option<usize> = None;
    let mut connection = String::new();
    for line in lines {
        let (name, value) = header_field(line)?;
        if name.eq_ignore_ascii_case("content-length") {
            let n = content_length_value(value)?;
            if content_length.is_some_and(|old| old != n) {
                return Err(HttpError::BadContentLength(value.to_string()));
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(HttpError::TransferEncoding);
        } else if name.eq_ignore_ascii_case("connection") {
            connection.push_str(&value.to_ascii_lowercase());
            connection.push(',');
        }
        headers.push((name.to_string(), value.to_string()));
    }
    let has = |option: &str| connection.split(',').any(|o| o.trim() == option);
    let keep_alive = match minor {
        1 => !has("close"),
        _ => has("keep-alive"),
    };
    let request = Request {
        method: method.to_string(),
        target: target.to_string(),
        minor,
        headers,
        content_length: content_length.unwrap_or(0),
        keep_alive,
    };
    Ok(Some((request, end + 4)))
}
// ANCHOR_END: parse_head

/// `GET /path HTTP/1.1` -> (method, target, minor version).
fn request_line(line: &str) -> Result<(&str, &str, u8), HttpError> {
    let bad = |why: &str| HttpError::BadRequestLine(why.to_string());
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("expected three parts separated by single spaces"));
    };
    if !is_token(method) {
        return Err(bad("the method is not a token"));
    }
    if !target.starts_with('/') || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(
            "the target must start with / and hold no blanks or controls",
        ));
    }
    let minor = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        v if v.len() == 8
            && v.starts_with("HTTP/")
            && v.as_bytes()[5].is_ascii_digit()
            && v.as_bytes()[6] == b'.'
            && v.as_bytes()[7].is_ascii_digit() =>
        {
            return Err(HttpError::Version(v.to_string()));
        }
        _ => return Err(bad("the version is not HTTP/1.0 or HTTP/1.1")),
    };
    Ok((method, target, minor))
}

/// `Name: value` -> (name, value without the blanks around it).
fn header_field(line: &str) -> Result<(&str, &str), HttpError> {
    let (name, value) = line
        .split_once(':')
        .ok_or_else(|| HttpError::BadHeader(format!("no colon in {:?}", clip(line))))?;
    if !is_token(name) {
        return Err(HttpError::BadHeader(format!(
            "bad field name {:?}",
            clip(name)
        )));
    }
    let value = value.trim_matches([' ', '\t']);
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(HttpError::BadHeader(format!(
            "control character in the value of {name}"
        )));
    }
    Ok((name, value))
}

fn content_length_value(value: &str) -> Result<usize, HttpError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HttpError::BadContentLength(value.to_string()));
    }
    match value.parse::<usize>() {
        Ok(n) if n <= MAX_BODY => Ok(n),
        Ok(n) => Err(HttpError::BodyTooLarge(n)),
        Err(_) => Err(HttpError::BodyTooLarge(usize::MAX)),
    }
}

/// At most 40 characters of `s`, for error messages that quote the input.
fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /`
    Root,
    /// `GET /compute?n=N`
    Compute(u64),
}

// ANCHOR: route
/// The route of a request, or why it has none. `n` may be at most `max_n`.
pub fn route(request: &Request, max_n: u64) -> Result<Route, HttpError> {
    if request.method != "GET" {
        return Err(HttpError::MethodNotAllowed(request.method.clone()));
    }
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((&request.target, ""));
    match path {
        "/" => Ok(Route::Root),
        "/compute" => Ok(Route::Compute(parse_n(query, max_n)?)),
        _ => Err(HttpError::NotFound(path.to_string())),
    }
}

/// `n` from a query such as `n=1000`: present, a whole number, at most `max_n`.
pub fn parse_n(query: &str, max_n: u64) -> Result<u64, HttpError> {
    let value = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("n="))
        .ok_or_else(|| {
            HttpError::BadQuery("missing query parameter n (use /compute?n=N)".into())
        })?;
    let n: u64 = value
        .parse()
        .ok()
        .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            HttpError::BadQuery(format!("n is not a whole number: {:?}", clip(value)))
        })?;
    if n > max_n {
        return Err(HttpError::BadQuery(format!(
            "n = {n} is above the limit of {max_n}"
        )));
    }
    Ok(n)
}
// ANCHOR_END: route

/// A complete response with a plain-text body (a newline is added).
pub fn response(status: u16, reason: &str, body: &str, keep_alive: bool) -> Vec<u8> {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n{body}\n",
        body.len() + 1
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Option<(Request, usize)>, HttpError> {
        parse_head(s.as_bytes())
    }

    #[test]
    fn a_simple_get() {
        let (r, used) = parse("GET /compute?n=5 HTTP/1.1\r\nHost: x\r\n\r\nrest")
            .unwrap()
            .unwrap();
        assert_eq!(used, 38);
        assert_eq!(
            (r.method.as_str(), r.target.as_str(), r.minor),
            ("GET", "/compute?n=5", 1)
        );
        assert_eq!(r.headers, vec![("Host".to_string(), "x".to_string())]);
        assert!(r.keep_alive);
        assert_eq!(route(&r, 10), Ok(Route::Compute(5)));
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection() {
        let ka = |s: &str| parse(s).unwrap().unwrap().0.keep_alive;
        assert!(!ka("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
        assert!(!ka("GET / HTTP/1.1\r\nConnection: Upgrade, Close\r\n\r\n"));
        assert!(!ka("GET / HTTP/1.0\r\n\r\n"));
        assert!(ka("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    }

    #[test]
    fn incomplete_heads_ask_for_more() {
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse("GET / HTTP/1.1\r\nHost: x\r\n\r"), Ok(None));
    }

    #[test]
    fn each_error_has_its_status() {
        let status = |s: &str| parse(s).unwrap_err().status().0;
        assert_eq!(status("GET  / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status("GET x HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status("G(T / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status("GET / HTTP/2.0\r\n\r\n"), 505);
        assert_eq!(status("GET / HTTX/1.1\r\n\r\n"), 400);
        assert_eq!(status("GET / HTTP/1.1\r\nno colon\r\n\r\n"), 400);
        assert_eq!(status("GET / HTTP/1.1\r\nbad name: v\r\n\r\n"), 400);
        assert_eq!(status("GET / HTTP/1.1\r\n folded\r\n\r\n"), 400);
        assert_eq!(status("GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"), 400);
        assert_eq!(
            status("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            400
        );
        assert_eq!(
            status("GET / HTTP/1.1\r\nContent-Length: 99999\r\n\r\n"),
            413
        );
        assert_eq!(
            status("GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
            413
        );
        assert_eq!(
            status("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            501
        );
        assert_eq!(
            parse_head(&vec![b'a'; MAX_HEAD]),
            Err(HttpError::HeadTooLarge)
        );
    }

    #[test]
    fn a_head_of_exactly_the_limit_is_accepted_one_more_byte_is_not() {
        let head = |len: usize| {
            let mut s = "GET / HTTP/1.1\r\nX: ".to_string();
            s.push_str(&"a".repeat(len - s.len() - 4));
            s.push_str("\r\n\r\n");
            assert_eq!(s.len(), len);
            s
        };
        assert!(parse(&head(MAX_HEAD)).unwrap().is_some());
        assert_eq!(parse(&head(MAX_HEAD + 1)), Err(HttpError::HeadTooLarge));
    }

    #[test]
    fn routes_and_their_errors() {
        let req = |target: &str, method: &str| Request {
            method: method.into(),
            target: target.into(),
            minor: 1,
            headers: vec![],
            content_length: 0,
            keep_alive: true,
        };
        assert_eq!(route(&req("/", "GET"), 10), Ok(Route::Root));
        assert_eq!(
            route(&req("/compute?x=1&n=10", "GET"), 10),
            Ok(Route::Compute(10))
        );
        let msg = |t: &str| route(&req(t, "GET"), 10).unwrap_err().to_string();
        assert_eq!(
            msg("/compute"),
            "missing query parameter n (use /compute?n=N)"
        );
        assert_eq!(msg("/compute?n=abc"), "n is not a whole number: \"abc\"");
        assert_eq!(msg("/compute?n=+5"), "n is not a whole number: \"+5\"");
        assert_eq!(
            msg("/compute?n=99999999999999999999"),
            "n is not a whole number: \"99999999999999999999\""
        );
        assert_eq!(msg("/compute?n=11"), "n = 11 is above the limit of 10");
        assert_eq!(
            route(&req("/nope", "GET"), 10),
            Err(HttpError::NotFound("/nope".into()))
        );
        assert_eq!(route(&req("/", "POST"), 10).unwrap_err().status().0, 405);
    }
}
