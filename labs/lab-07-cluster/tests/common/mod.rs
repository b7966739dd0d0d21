//! Helpers for lab-07's tests: start a cluster and wait for its `ready` line, and a
//! keep-alive HTTP client (labkit's client opens one connection per request).

#![allow(dead_code)] // each test file uses a part of this module

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};

use labkit::lines::LineReader;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, demo};

/// A running cluster: its master (in its own process group), its log, its workers.
pub struct Cluster {
    pub guard: ChildGuard,
    pub log: LineReader,
    pub addr: SocketAddr,
    pub master: u32,
    /// Worker id -> pid, for the workers that said `online` so far.
    pub workers: BTreeMap<u32, u32>,
}

/// The number after `prefix` in `line`.
pub fn number_after(line: &str, prefix: &str) -> u32 {
    let at = line
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix:?} in {line:?}"))
        + prefix.len();
    let digits: String = line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after {prefix:?} in {line:?}"))
}

impl Cluster {
    /// `cluster --workers N --sched S`, started and waited for until `ready`.
    pub fn start(sched: &str, workers: usize) -> Cluster {
        Cluster::start_with(sched, workers, &[])
    }

    /// [`Cluster::start`] with more arguments (`--max-connections 1`).
    pub fn start_with(sched: &str, workers: usize, more: &[&str]) -> Cluster {
        let mut cmd = demo(env!("CARGO_BIN_EXE_cluster"));
        cmd.args(["--workers", &workers.to_string(), "--sched", sched]);
        cmd.args(more);
        let mut guard = ChildGuard::spawn(&mut cmd).unwrap();
        let log = guard.stdout_lines();
        let mut cluster = Cluster {
            master: guard.pid(),
            guard,
            log,
            addr: "127.0.0.1:1".parse().unwrap(),
            workers: BTreeMap::new(),
        };
        let ready = cluster.wait_for("ready ");
        cluster.addr = format!("127.0.0.1:{}", number_after(&ready, "127.0.0.1:"))
            .parse()
            .unwrap();
        assert_eq!(
            cluster.workers.len(),
            workers,
            "{:?}",
            cluster.log.history()
        );
        cluster
    }

    /// The next log line that starts with `prefix` (recording `online` lines on the way).
    pub fn wait_for(&mut self, prefix: &str) -> String {
        loop {
            let line = match self.log.next_line(DEFAULT_TIMEOUT) {
                Ok(Some(line)) => line,
                other => panic!(
                    "waiting for {prefix:?}: {other:?}; log so far: {:#?}",
                    self.log.history()
                ),
            };
            if line.ends_with(" online") {
                let id = number_after(&line, "worker ");
                self.workers.insert(id, number_after(&line, "pid="));
            }
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    /// The next log line that contains `text`.
    pub fn wait_for_containing(&mut self, text: &str) -> String {
        loop {
            let line = self.wait_for("");
            if line.contains(text) {
                return line;
            }
        }
    }

    /// `GET path` on a new connection; the body.
    pub fn get(&self, path: &str) -> String {
        let response = labkit::http::get(self.addr, path).unwrap();
        assert_eq!(response.status, 200, "{response:?}");
        response.body
    }

    /// The pid in a `hello from worker PID` body.
    pub fn hello_pid(&self) -> u32 {
        number_after(&self.get("/"), "hello from worker ")
    }
}

/// A response on a keep-alive connection.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub close: bool,
    pub body: String,
}

/// An HTTP/1.1 client that keeps its connection open between requests.
pub struct KeepAlive {
    reader: BufReader<TcpStream>,
    pub stream: TcpStream,
}

impl KeepAlive {
    pub fn connect(addr: SocketAddr) -> io::Result<KeepAlive> {
        let stream = TcpStream::connect_timeout(&addr, DEFAULT_TIMEOUT)?;
        stream.set_read_timeout(Some(DEFAULT_TIMEOUT))?;
        Ok(KeepAlive {
            reader: BufReader::new(stream.try_clone()?),
            stream,
        })
    }

    /// The port on our side: the server's socket for this connection has it as remote.
    pub fn local_port(&self) -> u16 {
        self.stream.local_addr().unwrap().port()
    }

    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// `GET path` on this connection.
    pub fn get(&mut self, path: &str) -> io::Result<Reply> {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())?;
        self.read_reply()
    }

    /// Read one response (status line, headers, `Content-Length` body).
    pub fn read_reply(&mut self) -> io::Result<Reply> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed"));
        }
        let status = number_after(&line, "HTTP/1.1 ") as u16;
        let (mut len, mut close) = (0, false);
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    len = value.trim().parse().unwrap();
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.trim().eq_ignore_ascii_case("close");
                }
            }
        }
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body)?;
        Ok(Reply {
            status,
            close,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// Whether the server closed the connection: a read gives end of file.
    pub fn at_eof(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(self.reader.read(&mut byte), Ok(0))
    }
}

/// The bytes the server has received on the connection from `client_port` but not read
/// yet (`rx_queue` in /proc/net/tcp for the server's end), `None` if no such socket.
pub fn unread_by_server(server_port: u16, client_port: u16) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let (local, remote) = (format!(":{server_port:04X}"), format!(":{client_port:04X}"));
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(1)?.ends_with(&local) && f.get(2)?.ends_with(&remote) {
            let (_, rx) = f.get(4)?.split_once(':')?;
            u64::from_str_radix(rx, 16).ok()
        } else {
            None
        }
    })
}

/// The inode of the server's socket for the connection from `client_port`: 0 while the
/// connection waits in the listener's accept queue, a real inode once a process accepted it.
pub fn server_socket_inode(server_port: u16, client_port: u16) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let (local, remote) = (format!(":{server_port:04X}"), format!(":{client_port:04X}"));
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(1)?.ends_with(&local) && f.get(2)?.ends_with(&remote) {
            f.get(9)?.parse().ok()
        } else {
            None
        }
    })
}
