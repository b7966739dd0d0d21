//! Helpers shared by the server tests: start a server (ours or Node's, which print the same
//! lines), send requests, and turn its event log into a timeline snapshot.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;

use labkit::lines::fields;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, LineReader, Redactor};

pub const SERVER: &str = env!("CARGO_BIN_EXE_server");
pub const NODE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/node");

/// A running server, killed with its process group (and its compute children) on drop.
pub struct Running {
    pub guard: ChildGuard,
    pub lines: LineReader,
    pub addr: SocketAddr,
    pub pid: u32,
}

impl Running {
    pub fn start(cmd: &mut Command) -> Running {
        let mut guard = ChildGuard::spawn(cmd).expect("start the server");
        let mut lines = guard.stdout_lines();
        let ready = lines
            .wait_for("ready ", DEFAULT_TIMEOUT)
            .expect("ready line");
        let f = fields(&ready);
        let addr = f["addr"].parse().expect("addr=");
        let pid = f["pid"].parse().expect("pid=");
        Running {
            guard,
            lines,
            addr,
            pid,
        }
    }

    /// Our server in `mode` on a free port, with extra arguments.
    pub fn rust(mode: &str, extra: &[&str]) -> Running {
        let mut cmd = labkit::demo(SERVER);
        cmd.args(["--mode", mode, "--addr", "127.0.0.1:0"])
            .args(extra);
        Running::start(&mut cmd)
    }

    /// `node node/server.js MODE 0 [MAX_N]`.
    pub fn node(mode: &str, max_n: Option<&str>) -> Running {
        let mut cmd = labkit::demo("node");
        cmd.arg(format!("{NODE_DIR}/server.js")).args([mode, "0"]);
        cmd.args(max_n);
        Running::start(&mut cmd)
    }

    /// Wait for an event line starting with `prefix`.
    pub fn wait_for(&mut self, prefix: &str) -> String {
        self.lines.wait_for(prefix, DEFAULT_TIMEOUT).unwrap()
    }

    /// Like `wait_for`, but also accepts a line that was read already.
    pub fn logged(&mut self, prefix: &str) -> String {
        match self.lines.history().iter().find(|l| l.starts_with(prefix)) {
            Some(line) => line.clone(),
            None => self.wait_for(prefix),
        }
    }

    pub fn history(&self) -> Vec<String> {
        self.lines.history().to_vec()
    }
}

/// `GET path` with `Connection: close`, read to end of file. Unlike `labkit::http::get`
/// it does not half-close the connection after the request: Node's HTTP server (without
/// `allowHalfOpen`) would close the socket at the client's FIN, before an answer that
/// comes later from a child or a worker.
pub fn get(addr: SocketAddr, path: &str) -> std::io::Result<labkit::http::Response> {
    let mut stream = TcpStream::connect_timeout(&addr, DEFAULT_TIMEOUT)?;
    stream.set_read_timeout(Some(DEFAULT_TIMEOUT))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    labkit::http::parse_response(&raw)
}

/// Raw bytes to the server (the write half then closed), everything it answers.
pub fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    String::from_utf8_lossy(&labkit::http::send_raw(addr, bytes).unwrap()).into_owned()
}

/// The status line and body of a raw exchange, headers left out.
pub fn status_and_body(response: &str) -> String {
    let status = response.lines().next().unwrap_or("").to_string();
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    format!("{status} | {}", body.trim_end())
}

/// A connection that sends `bytes` and then stays open, sending nothing more.
pub fn stall(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
    stream.write_all(bytes).unwrap();
    stream
}

/// Read until the server closes the connection.
pub fn read_all(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    stream.read_to_end(&mut out).unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// The timeline as the book shows it: pids and ports hidden, child pids named.
pub fn timeline(lines: &[String]) -> String {
    let text = lines.join("\n");
    Redactor::new()
        .pattern(r"on=child pid=\d+", "on=child pid=[CHILD]")
        .apply(&text)
}
