//! Chapter 12, beyond one machine: the load generator. N keep-alive connections, one
//! thread each, sending `GET /` back to back until told to stop, and keeping a record of
//! every request: when it started and ended, and which worker answered (lab-07's server
//! answers `hello from worker PID`) or that it failed.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long one request may take before it counts as failed (nginx's own time-outs are
/// shorter, so a request it retries on another host still fits).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// One request, as the client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// When it was sent, from the start of the load.
    pub start: Duration,
    /// When its answer (or the error) came.
    pub end: Duration,
    /// The worker that answered `200 hello from worker PID`, or `None` when the request
    /// failed (an I/O error, another status, another body).
    pub worker: Option<u32>,
}

impl Request {
    pub fn ok(&self) -> bool {
        self.worker.is_some()
    }
}

/// Load running in the background until [`Load::finish`] (or drop) stops it.
#[derive(Debug)]
pub struct Load {
    epoch: Instant,
    stop: Arc<AtomicBool>,
    completed: Arc<AtomicU64>,
    threads: Vec<JoinHandle<Vec<Request>>>,
}

impl Load {
    /// Start `connections` client threads against `addr`.
    pub fn start(addr: SocketAddr, connections: usize) -> Load {
        let epoch = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let completed = Arc::new(AtomicU64::new(0));
        let threads = (0..connections)
            .map(|_| {
                let (stop, completed) = (stop.clone(), completed.clone());
                std::thread::spawn(move || client(addr, epoch, &stop, &completed))
            })
            .collect();
        Load {
            epoch,
            stop,
            completed,
            threads,
        }
    }

    /// Requests answered or failed so far, on all connections.
    pub fn completed(&self) -> u64 {
        self.completed.load(Ordering::Relaxed)
    }

    /// Time since the load started (the clock of [`Request::start`] and `end`).
    pub fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// Stop every client after its current request; all requests, in order of start.
    pub fn finish(mut self) -> Vec<Request> {
        self.stop.store(true, Ordering::Relaxed);
        let mut all: Vec<Request> = self
            .threads
            .drain(..)
            .flat_map(|t| t.join().unwrap_or_default())
            .collect();
        all.sort_by_key(|r| r.start);
        all
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// One connection's loop: reuse the connection while it lasts, open a new one after an
/// error or a `Connection: close`.
fn client(addr: SocketAddr, epoch: Instant, stop: &AtomicBool, done: &AtomicU64) -> Vec<Request> {
    let mut log = Vec::new();
    let mut conn: Option<TcpStream> = None;
    while !stop.load(Ordering::Relaxed) {
        let start = epoch.elapsed();
        let answer = match conn.take() {
            Some(stream) => Ok(stream),
            None => connect(addr),
        }
        .and_then(|mut stream| {
            let (worker, keep) = get(&mut stream)?;
            if keep {
                conn = Some(stream);
            }
            Ok(worker)
        });
        log.push(Request {
            start,
            end: epoch.elapsed(),
            worker: answer.ok().flatten(),
        });
        done.fetch_add(1, Ordering::Relaxed);
    }
    log
}

/// One `GET /` on a new connection: the worker that answered, or `None` for another
/// answer. (Unlike labkit's client, it does not half-close its side first: nginx takes
/// that for a client that gave up, and drops the request.)
pub fn get_once(addr: SocketAddr) -> io::Result<Option<u32>> {
    Ok(get(&mut connect(addr)?)?.0)
}

fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// `GET /` on a connection: the worker pid (if the answer was `200 hello from worker
/// PID`) and whether the connection may be reused.
fn get(stream: &mut TcpStream) -> io::Result<(Option<u32>, bool)> {
    stream.write_all(b"GET / HTTP/1.1\r\nHost: lab12\r\n\r\n")?;
    let mut got = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let (head_end, length) = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        got.extend_from_slice(&buf[..n]);
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or_else(|| io::Error::other("no Content-Length"))?;
            break (end + 4, length);
        }
    };
    while got.len() < head_end + length {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        got.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&got[..head_end]).to_ascii_lowercase();
    let keep = !head.contains("\r\nconnection: close");
    let body = String::from_utf8_lossy(&got[head_end..head_end + length]);
    let worker = (head.starts_with("http/1.1 200 "))
        .then(|| body.strip_prefix("hello from worker ")?.trim().parse().ok())
        .flatten();
    Ok((worker, keep))
}
