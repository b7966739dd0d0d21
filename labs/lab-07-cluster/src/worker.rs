//! Chapter 7: a worker. One poll loop on the main thread watches the channel to the
//! master (and, in `shared` and `reuseport` mode, the listener); each connection gets a
//! thread of its own that reads requests, answers them, and keeps the connection open
//! between requests (keep-alive).
//!
//! The worker tells the master `online` when it is ready, answers every connection the
//! master offers with `accepted: true` or `false` (Node's `newconn` protocol), says
//! `suicide` before it leaves on `GET /crash` (so the master can start a replacement
//! first), and on `disconnect` stops taking connections, finishes the requests it has,
//! reports how many it served, and exits 0.

use std::io::{self, Read, Write};
use std::net::{SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd, FromRawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lab_05::ChannelError;
use lab_06::{HandleChannel, HandleError, Incoming};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::socket::{getsockopt, sockopt};
use serde_json::{Value, json};

use crate::http::{self, Parsed, Request};
use crate::sched::{ADDR_VAR, LISTENER_FD, SCHED_VAR, Sched, reuseport_listener};

/// A worker serves at most this many connections at once by default: in `rr` mode it
/// declines more, in `shared` and `reuseport` mode it stops accepting until one closes.
pub const MAX_CONNECTIONS: usize = 256;
/// The environment variable with a worker's connection limit (`cluster --max-connections`).
pub const MAX_CONNECTIONS_VAR: &str = "LAB07_MAX_CONNECTIONS";
/// How long a client may take to send a request's head, counted from its first byte, by
/// default; then the worker answers `408` and closes (Node's `headersTimeout` is 60 s).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// The environment variable with the head time-out in milliseconds (`cluster --head-timeout`).
pub const HEAD_TIMEOUT_VAR: &str = "LAB07_HEAD_TIMEOUT_MS";
/// After `accept` fails for a reason other than "nothing there" (out of descriptors,
/// `EMFILE`), the listener stays readable: wait this long before the next try.
pub const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// What the connection threads and the main thread share.
struct Shared {
    max_connections: usize,
    head_timeout: Duration,
    served: AtomicU64,
    active: AtomicUsize,
    crash: AtomicBool,
    draining: AtomicBool,
    /// A thread writes a byte here to wake the main thread's `poll`.
    wake: UnixStream,
    /// Readable (end of file) once the worker drains: the main thread drops the other end.
    drain_rx: UnixStream,
    drain_tx: Mutex<Option<UnixStream>>,
}

impl Shared {
    fn wake(&self) {
        let _ = (&self.wake).write(&[1]); // non-blocking: a full buffer already wakes it
    }
}

/// Why the worker is leaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaving {
    Crash,
    Disconnect,
}

/// The worker's `main`: returns its exit code (a crash panics instead).
pub fn main(id: &str) -> i32 {
    match run(id) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("worker {id}: {e}");
            1
        }
    }
}

// ANCHOR: worker_loop
fn run(id: &str) -> io::Result<i32> {
    // The signal mask survives fork and exec: we start with the master's (SIGCHLD, SIGINT,
    // SIGTERM and SIGQUIT blocked, for its signalfd). Set our own before any thread starts,
    // so all inherit it: only SIGINT stays blocked, because Ctrl-C in a terminal signals
    // the whole process group and the master drains the workers itself.
    SigSet::from(Signal::SIGINT).thread_set_mask()?;
    let sched = std::env::var(SCHED_VAR)
        .ok()
        .and_then(|s| Sched::from_name(&s))
        .ok_or_else(|| io::Error::other(format!("{SCHED_VAR} is not rr|shared|reuseport")))?;
    let mut chan = HandleChannel::from_env().map_err(io::Error::other)?;
    chan.get_ref().set_nonblocking(true)?;
    let mut listener = match sched {
        Sched::Rr => None,
        Sched::Shared => Some(inherited_listener()?),
        Sched::Reuseport => {
            let addr: SocketAddrV4 = std::env::var(ADDR_VAR)
                .ok()
                .and_then(|a| a.parse().ok())
                .ok_or_else(|| io::Error::other(format!("{ADDR_VAR} is not an address")))?;
            Some(reuseport_listener(addr)?)
        }
    };
    if let Some(l) = &listener {
        l.set_nonblocking(true)?; // several processes accept: the losers get EAGAIN
    }
    let (wake_rx, wake_tx) = UnixStream::pair()?;
    wake_rx.set_nonblocking(true)?;
    wake_tx.set_nonblocking(true)?;
    let (drain_rx, drain_tx) = UnixStream::pair()?;
    let shared = Arc::new(Shared {
        max_connections: env_number(MAX_CONNECTIONS_VAR).map_or(MAX_CONNECTIONS, |n| n as usize),
        head_timeout: env_number(HEAD_TIMEOUT_VAR).map_or(HEAD_TIMEOUT, Duration::from_millis),
        served: AtomicU64::new(0),
        active: AtomicUsize::new(0),
        crash: AtomicBool::new(false),
        draining: AtomicBool::new(false),
        wake: wake_tx,
        drain_rx,
        drain_tx: Mutex::new(Some(drain_tx)),
    });
    tell(&mut chan, json!({"act": "online"}))?;
    let mut leaving = None;
    let mut accept_pause: Option<Instant> = None;
    loop {
        if let Some(why) = leaving
            && shared.active.load(Ordering::SeqCst) == 0
        {
            return Ok(leave(why, &mut chan, &shared, id));
        }
        let room = shared.has_room();
        accept_pause = accept_pause.filter(|until| *until > Instant::now());
        let (chan_ready, woken, acceptable) = {
            let mut fds = vec![
                PollFd::new(chan.get_ref().as_fd(), PollFlags::POLLIN),
                PollFd::new(wake_rx.as_fd(), PollFlags::POLLIN),
            ];
            if let Some(l) = listener.as_ref().filter(|_| room && accept_pause.is_none()) {
                fds.push(PollFd::new(l.as_fd(), PollFlags::POLLIN));
            }
            let timeout = accept_pause.map_or(PollTimeout::NONE, |until| {
                PollTimeout::try_from(until.saturating_duration_since(Instant::now()))
                    .unwrap_or(PollTimeout::MAX)
            });
            match poll(&mut fds, timeout) {
                Err(nix::errno::Errno::EINTR) => continue,
                r => r?,
            };
            let ready = |i: usize| fds.get(i).and_then(|f| f.any()).unwrap_or(false);
            (ready(0), ready(1), ready(2))
        };
        if chan_ready {
            while let Some(incoming) = next(&mut chan)? {
                match incoming {
                    Incoming::Handle(h) => {
                        let seq = h.msg.get("seq").cloned().unwrap_or(Value::Null);
                        let stream = h
                            .into_stream()
                            .ok()
                            .filter(|_| leaving.is_none() && shared.has_room());
                        // Answer first, as Node does, then serve: until the master has our
                        // answer, no thread of ours has read a byte from the connection, so
                        // if we die before answering the master may offer it elsewhere.
                        let accepted = stream.is_some();
                        tell(
                            &mut chan,
                            json!({"act": "accepted", "seq": seq, "accepted": accepted}),
                        )?;
                        if let Some(stream) = stream
                            && !start_connection(&shared, stream)
                        {
                            eprintln!("worker {id}: no thread for a connection: closed");
                        }
                    }
                    Incoming::Message(m) if m["act"] == "disconnect" => {
                        leaving.get_or_insert(Leaving::Disconnect);
                        drain(&shared, &mut listener);
                    }
                    Incoming::Message(_) => {}
                }
            }
        }
        if woken {
            let mut sink = [0u8; 64];
            while matches!((&wake_rx).read(&mut sink), Ok(n) if n > 0) {}
            if shared.crash.load(Ordering::SeqCst) && leaving.is_none() {
                // Tell the master first: it starts the replacement before we are gone.
                tell(&mut chan, json!({"act": "suicide"}))?;
                leaving = Some(Leaving::Crash);
                drain(&shared, &mut listener);
            }
        }
        if acceptable && let Some(l) = &listener {
            // Until the queue is empty, or we are full: what we leave stays queued.
            while shared.has_room() {
                match l.accept() {
                    Ok((stream, _)) => {
                        start_connection(&shared, stream);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                    Err(e) => {
                        // EMFILE and the like: the listener stays readable; don't spin.
                        eprintln!("worker {id}: accept: {e}");
                        accept_pause = Some(Instant::now() + ACCEPT_PAUSE);
                        break;
                    }
                }
            }
        }
    }
}
// ANCHOR_END: worker_loop

/// The next message from the master; `None` when there is nothing more to read now.
/// The channel is non-blocking, so `recv` says `WouldBlock` once it is drained. When the
/// master is gone (end of file) the worker exits at once, as a Node worker does.
fn next(chan: &mut HandleChannel) -> io::Result<Option<Incoming>> {
    match chan.recv() {
        Ok(Some(incoming)) => Ok(Some(incoming)),
        Ok(None) => std::process::exit(0),
        Err(HandleError::Channel(ChannelError::Io(e))) if e.kind() == io::ErrorKind::WouldBlock => {
            Ok(None)
        }
        Err(e) => Err(io::Error::other(e)),
    }
}

/// A number from the environment, if the master set one.
fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Send a cluster message to the master.
fn tell(chan: &mut HandleChannel, mut msg: Value) -> io::Result<()> {
    msg["cmd"] = "NODE_CLUSTER".into();
    chan.send(&msg).map(|_| ()).map_err(io::Error::other)
}

/// Every in-flight request is answered: leave.
fn leave(why: Leaving, chan: &mut HandleChannel, shared: &Shared, id: &str) -> i32 {
    match why {
        Leaving::Crash => panic!("worker {id}: GET /crash asked for a crash"),
        Leaving::Disconnect => {
            let served = shared.served.load(Ordering::SeqCst);
            let _ = tell(chan, json!({"act": "bye", "served": served}));
            0
        }
    }
}

/// The listener this worker inherited from the master at [`LISTENER_FD`].
fn inherited_listener() -> io::Result<TcpListener> {
    // SAFETY: only borrowed for the check; fd 4 is not owned by anything in this process.
    let fd = unsafe { BorrowedFd::borrow_raw(LISTENER_FD) };
    if !getsockopt(&fd, sockopt::AcceptConn)? {
        return Err(io::Error::other("fd 4 is not a listening socket"));
    }
    // SAFETY: fd 4 is open (getsockopt succeeded), a listening socket, and nothing else in
    // this process owns it: the master placed it here for this one owner.
    Ok(unsafe { TcpListener::from_raw_fd(LISTENER_FD) })
}

// ANCHOR: drain
/// Stop taking connections. Closing the drain socket's write end makes its read end
/// readable in every connection thread that waits between two requests: those close
/// their connection; a thread in the middle of a request answers it first.
fn drain(shared: &Shared, listener: &mut Option<TcpListener>) {
    *listener = None; // our copy closes; in `shared` mode the others keep the socket open
    shared.draining.store(true, Ordering::SeqCst);
    drop(
        shared
            .drain_tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take(),
    );
}
// ANCHOR_END: drain

/// Serve `stream` on a thread of its own; false if no thread could be started.
fn start_connection(shared: &Arc<Shared>, stream: TcpStream) -> bool {
    shared.active.fetch_add(1, Ordering::SeqCst);
    let thread_shared = Arc::clone(shared);
    let started = std::thread::Builder::new().spawn(move || {
        serve(&thread_shared, stream);
        thread_shared.finished();
    });
    if started.is_err() {
        shared.finished();
        return false;
    }
    true
}

impl Shared {
    fn has_room(&self) -> bool {
        self.active.load(Ordering::SeqCst) < self.max_connections
    }

    fn finished(&self) {
        self.active.fetch_sub(1, Ordering::SeqCst);
        if self.draining.load(Ordering::SeqCst) {
            self.wake(); // the main thread waits for the last one
        }
    }

    // ANCHOR: next_request
    /// Wait until the next request starts arriving on `stream` (true), or the client
    /// closes it or the worker drains first (false). Data that is already there wins.
    fn next_request(&self, stream: &TcpStream) -> bool {
        let mut fds = [
            PollFd::new(stream.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.drain_rx.as_fd(), PollFlags::POLLIN),
        ];
        loop {
            match poll(&mut fds, PollTimeout::NONE) {
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return false,
                Ok(_) => return fds[0].any().unwrap_or(false),
            }
        }
    }
    // ANCHOR_END: next_request
}

// ANCHOR: serve
/// One connection: requests in, answers out, until the client or the server closes it.
fn serve(shared: &Shared, mut stream: TcpStream) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let mut head_started = Instant::now(); // when the current request's first byte came
    loop {
        match http::parse(&buf) {
            Parsed::Request { request, len } => {
                buf.drain(..len);
                let (status, reason, body, crash) = route(&request);
                let draining = shared.draining.load(Ordering::SeqCst);
                let keep_alive = request.keep_alive && !crash && !draining;
                let allow = if status == 405 {
                    "Allow: GET, HEAD\r\n"
                } else {
                    ""
                };
                // HEAD: no body, but the length a GET would get.
                let sent = if request.method == "HEAD" { "" } else { &body };
                if http::respond_with(
                    &mut stream,
                    status,
                    reason,
                    sent,
                    body.len(),
                    allow,
                    keep_alive,
                )
                .is_err()
                {
                    return;
                }
                head_started = Instant::now(); // a pipelined request already started
                shared.served.fetch_add(1, Ordering::Relaxed);
                if crash {
                    shared.crash.store(true, Ordering::SeqCst);
                    shared.wake();
                }
                if !keep_alive {
                    return;
                }
            }
            Parsed::Bad(why) => {
                // This connection is lost; the worker and its other connections are not.
                let _ = http::respond(&mut stream, 400, "Bad Request", &format!("{why}\n"), false);
                return;
            }
            Parsed::Incomplete => {
                // Between two requests: nothing is lost if a drain closes the connection.
                if buf.is_empty() {
                    if !shared.next_request(&stream) {
                        return;
                    }
                    head_started = Instant::now();
                }
                // In a request: its head must be complete within the time-out, or a
                // stalled client would hold this thread, and a drain, forever.
                let left = shared.head_timeout.saturating_sub(head_started.elapsed());
                if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
                    let _ = http::respond(&mut stream, 408, "Request Timeout", "too slow\n", false);
                    return;
                }
                match stream.read(&mut chunk) {
                    Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        let _ =
                            http::respond(&mut stream, 408, "Request Timeout", "too slow\n", false);
                        return;
                    }
                    _ => return,
                }
            }
        }
    }
}
// ANCHOR_END: serve

// ANCHOR: route
/// The answer to a request: status, reason, body, and whether to crash afterwards.
fn route(request: &Request) -> (u16, &'static str, String, bool) {
    let pid = std::process::id();
    match (request.method.as_str(), request.path.as_str()) {
        ("GET" | "HEAD", "/") => (200, "OK", format!("hello from worker {pid}"), false),
        ("GET", "/crash") => (200, "OK", format!("worker {pid} crashes"), true),
        ("GET" | "HEAD", _) => (404, "Not Found", "not found\n".into(), false),
        _ => (
            405,
            "Method Not Allowed",
            "GET or HEAD only\n".into(),
            false,
        ),
    }
}
// ANCHOR_END: route
