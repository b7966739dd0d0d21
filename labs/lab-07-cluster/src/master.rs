//! Chapter 7: the master. It never serves a request itself. It starts the workers, keeps
//! their number up, and, in `rr` mode, accepts every connection and hands it to a free
//! worker with lab-06's handle passing.
//!
//! It stays single-threaded, and waits for everything in one `poll`: the listener (`rr`),
//! each worker's channel, and a signalfd that turns SIGCHLD, SIGINT, SIGTERM and SIGQUIT
//! into reads. Workers are this same program started again with `NODE_UNIQUE_ID` set
//! (fork + exec, as Node's `cluster.fork()` does); they stay in the master's process group.

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use lab_05::ChannelError;
use lab_06::{HandleChannel, HandleError, HandleKind, Incoming};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use serde_json::{Value, json};

use crate::WORKER_ID_VAR;
use crate::sched::{ADDR_VAR, LISTENER_FD, SCHED_VAR, Sched, reuseport_socket};
use crate::worker::{ACCEPT_PAUSE, HEAD_TIMEOUT_VAR, MAX_CONNECTIONS_VAR};

/// How the master was asked to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub workers: usize,
    pub sched: Sched,
    pub addr: SocketAddrV4,
    /// Each worker's connection limit (`None`: [`crate::worker::MAX_CONNECTIONS`]).
    pub max_connections: Option<usize>,
    /// How long a request's head may take (`None`: [`crate::worker::HEAD_TIMEOUT`]).
    pub head_timeout: Option<Duration>,
}

/// Deaths closer together than this count as "dying in a loop".
pub const CRASH_WINDOW: Duration = Duration::from_secs(5);
/// The first delay before a restart when workers die in a loop; it doubles up to the cap.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
pub const MAX_BACKOFF: Duration = Duration::from_millis(3200);

/// One worker, as the master sees it.
#[derive(Debug)]
struct Worker {
    id: u32,
    child: Child,
    /// `None` once the channel reached end of file.
    chan: Option<HandleChannel>,
    online: bool,
    /// It said `suicide`: a replacement was started, it gets no new connections.
    leaving: bool,
    disconnect_sent: bool,
    /// The connection offered to it and not answered yet (our copy, to offer elsewhere).
    pending: Option<(u64, TcpStream)>,
    served: Option<u64>,
}

/// The whole state of the master.
struct Master {
    opts: Options,
    addr: SocketAddr,
    /// `rr`: the socket we accept on; `shared`: the one the workers inherit; `reuseport`:
    /// a bound socket that only holds the port (a `TcpListener` that never listens).
    socket: Option<TcpListener>,
    workers: Vec<Worker>,
    next_id: u32,
    next_seq: u64,
    /// `rr`: workers that may be offered a connection, in the order they became free.
    free: VecDeque<u32>,
    /// `rr`: accepted connections that wait for a free worker.
    backlog: VecDeque<TcpStream>,
    ready: bool,
    shutting_down: bool,
    /// When to start each replacement that waits for its back-off.
    restarts: Vec<Instant>,
    last_death: Option<Instant>,
    backoff: Duration,
    /// `rr`: `accept` failed (out of descriptors): don't poll the listener until then.
    accept_pause: Option<Instant>,
}

/// Run the master until it is told to stop; returns the exit code.
pub fn run(opts: Options) -> io::Result<i32> {
    // Block the signals before anything else, then read them from a signalfd: they can
    // only arrive inside poll(), never in the middle of our bookkeeping.
    let mut mask = SigSet::empty();
    for s in [
        Signal::SIGCHLD,
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGQUIT,
    ] {
        mask.add(s);
    }
    mask.thread_block()?;
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
    let (socket, addr) = open_socket(&opts)?;
    let mut master = Master {
        addr,
        socket: Some(socket),
        workers: Vec::new(),
        next_id: 1,
        next_seq: 0,
        free: VecDeque::new(),
        backlog: VecDeque::new(),
        ready: false,
        shutting_down: false,
        restarts: Vec::new(),
        last_death: None,
        backoff: Duration::ZERO,
        accept_pause: None,
        opts,
    };
    for _ in 0..master.opts.workers {
        master.fork()?;
    }
    master.event_loop(&signals)
}

/// The socket each scheduler needs in the master.
fn open_socket(opts: &Options) -> io::Result<(TcpListener, SocketAddr)> {
    let socket = match opts.sched {
        Sched::Rr | Sched::Shared => TcpListener::bind(opts.addr)?,
        Sched::Reuseport => TcpListener::from(reuseport_socket(opts.addr, false)?),
    };
    socket.set_nonblocking(true)?;
    let addr = socket.local_addr()?;
    Ok((socket, addr))
}

impl Master {
    // ANCHOR: fork
    /// Start one worker: this program again, with a channel at fd 3 and `NODE_UNIQUE_ID`.
    fn fork(&mut self) -> io::Result<u32> {
        let id = self.next_id;
        self.next_id += 1;
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.env(WORKER_ID_VAR, id.to_string())
            .env(SCHED_VAR, self.opts.sched.name())
            .env(ADDR_VAR, self.addr.to_string());
        if let Some(n) = self.opts.max_connections {
            cmd.env(MAX_CONNECTIONS_VAR, n.to_string());
        }
        if let Some(t) = self.opts.head_timeout {
            cmd.env(HEAD_TIMEOUT_VAR, t.as_millis().to_string());
        }
        if let (Sched::Shared, Some(socket)) = (self.opts.sched, &self.socket) {
            lab_05::fd_at(&mut cmd, OwnedFd::from(socket.try_clone()?), LISTENER_FD);
        }
        // spawn_with_channel: socketpair, the child's end at fd 3, NODE_CHANNEL_FD=3.
        let (child, chan) = lab_05::spawn_with_channel(cmd)?;
        let chan = HandleChannel::new(chan.into_inner());
        chan.get_ref().set_nonblocking(true)?;
        self.workers.push(Worker {
            id,
            child,
            chan: Some(chan),
            online: false,
            leaving: false,
            disconnect_sent: false,
            pending: None,
            served: None,
        });
        Ok(id)
    }
    // ANCHOR_END: fork

    fn event_loop(&mut self, signals: &SignalFd) -> io::Result<i32> {
        loop {
            self.start_due_restarts()?;
            if self.shutting_down && self.workers.is_empty() {
                say("all workers gone; bye");
                return Ok(0);
            }
            self.accept_pause = self.accept_pause.filter(|until| *until > Instant::now());
            let timeout = match self.restarts.iter().chain(&self.accept_pause).min() {
                Some(at) => PollTimeout::try_from(at.saturating_duration_since(Instant::now()))
                    .unwrap_or(PollTimeout::MAX),
                None => PollTimeout::NONE,
            };
            let accepting = self.opts.sched == Sched::Rr
                && !self.shutting_down
                && self.backlog.len() < 64
                && self.accept_pause.is_none();
            // Which fds are ready: signalfd, listener, then one per worker with a channel.
            let (sig_ready, listen_ready, worker_ready) = {
                let mut fds = vec![PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
                let listen_at = match (&self.socket, accepting) {
                    (Some(s), true) => {
                        fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
                        Some(fds.len() - 1)
                    }
                    _ => None,
                };
                let mut owners = Vec::new();
                for w in &self.workers {
                    if let Some(chan) = &w.chan {
                        fds.push(PollFd::new(chan.get_ref().as_fd(), PollFlags::POLLIN));
                        owners.push(w.id);
                    }
                }
                match poll(&mut fds, timeout) {
                    Err(nix::errno::Errno::EINTR) => continue,
                    r => r?,
                };
                let ready = |i: usize| fds[i].any().unwrap_or(false);
                let first_worker = fds.len() - owners.len();
                let worker_ready: Vec<u32> = owners
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| ready(first_worker + i))
                    .map(|(_, id)| *id)
                    .collect();
                (ready(0), listen_at.is_some_and(ready), worker_ready)
            };
            if sig_ready && let Some(code) = self.on_signals(signals)? {
                return Ok(code);
            }
            for id in worker_ready {
                self.read_worker(id)?;
            }
            if listen_ready {
                self.accept_all();
            }
            self.dispatch();
            if self.shutting_down {
                self.disconnect_idle();
            }
        }
    }

    // ANCHOR: signals
    /// Drain the signalfd. Returns an exit code when the master must stop now.
    fn on_signals(&mut self, signals: &SignalFd) -> io::Result<Option<i32>> {
        while let Some(info) = signals.read_signal()? {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGCHLD) => self.reap()?,
                Ok(sig @ (Signal::SIGINT | Signal::SIGTERM)) if !self.shutting_down => {
                    self.shutting_down = true;
                    self.socket = None; // close the listener: no new connections
                    self.restarts.clear();
                    say(&format!(
                        "shutting down on {sig}: {} workers draining",
                        self.workers.len()
                    ));
                }
                Ok(Signal::SIGQUIT) => {
                    for w in &mut self.workers {
                        let _ = w.child.kill(); // SIGKILL
                        let _ = w.child.wait();
                    }
                    say(&format!(
                        "SIGQUIT: {} workers killed; bye",
                        self.workers.len()
                    ));
                    return Ok(Some(128 + Signal::SIGQUIT as i32));
                }
                _ => {}
            }
        }
        Ok(None)
    }
    // ANCHOR_END: signals

    /// Read everything a worker sent; end of file means it is gone or going.
    fn read_worker(&mut self, id: u32) -> io::Result<()> {
        let mut messages = Vec::new();
        let mut eof = false;
        if let Some(w) = self.worker_mut(id)
            && let Some(chan) = &mut w.chan
        {
            loop {
                match chan.recv() {
                    Ok(Some(Incoming::Message(m))) => messages.push(m),
                    Ok(Some(Incoming::Handle(_))) => {} // workers send none; dropped = closed
                    Ok(None) => {
                        eof = true;
                        break;
                    }
                    Err(HandleError::Channel(ChannelError::Io(e)))
                        if e.kind() == io::ErrorKind::WouldBlock =>
                    {
                        break;
                    }
                    Err(e) => {
                        say(&format!("worker {id}: bad message on its channel: {e}"));
                        eof = true;
                        break;
                    }
                }
            }
        }
        for m in messages {
            self.on_message(id, &m)?;
        }
        if eof {
            self.lost_channel(id);
        }
        Ok(())
    }

    // ANCHOR: on_message
    fn on_message(&mut self, id: u32, m: &Value) -> io::Result<()> {
        let shutting_down = self.shutting_down;
        let Some(w) = self.workers.iter_mut().find(|w| w.id == id) else {
            return Ok(());
        };
        let pid = w.child.id();
        match m["act"].as_str() {
            Some("online") => {
                w.online = true;
                say(&format!("worker {id} pid={pid} online"));
                self.free.push_back(id);
                self.announce_ready();
            }
            Some("accepted") => {
                let answered = w.pending.take_if(|(seq, _)| m["seq"] == *seq);
                if let Some((_, stream)) = answered
                    && m["accepted"] != true
                {
                    self.backlog.push_front(stream); // offer it to another worker
                }
                // Free again, whatever it answered (as in Node), unless it is leaving or
                // draining. During a shutdown the connections accepted before the signal
                // still need workers: the disconnect waits until they are handed out.
                if !w.leaving && !w.disconnect_sent {
                    self.free.push_back(id);
                }
            }
            Some("suicide") => {
                // Node's old name for "exited after disconnect": this worker leaves on
                // purpose. Start its replacement first, so capacity never drops.
                w.leaving = true;
                self.free.retain(|f| *f != id);
                if !shutting_down {
                    let new = self.fork()?;
                    say(&format!(
                        "worker {id} pid={pid} leaving (GET /crash); worker {new} forked first"
                    ));
                }
            }
            Some("bye") => w.served = m["served"].as_u64(),
            _ => say(&format!("worker {id}: unknown message {m}")),
        }
        Ok(())
    }
    // ANCHOR_END: on_message

    /// A worker's channel closed: it is exiting (SIGCHLD will follow). A connection it
    /// did not answer was never read by it (a worker answers before it serves): give it
    /// to another worker.
    fn lost_channel(&mut self, id: u32) {
        self.free.retain(|f| *f != id);
        if let Some(w) = self.workers.iter_mut().find(|w| w.id == id) {
            w.chan = None;
            if let Some((_, stream)) = w.pending.take() {
                self.backlog.push_front(stream);
            }
        }
    }

    // ANCHOR: reap
    /// Collect every worker that exited; replace the ones that died unexpectedly.
    fn reap(&mut self) -> io::Result<()> {
        let mut i = 0;
        while i < self.workers.len() {
            let Some(status) = self.workers[i].child.try_wait()? else {
                i += 1;
                continue;
            };
            // What it wrote before it exited (its `bye`) is still in the channel: read it.
            self.read_worker(self.workers[i].id)?;
            let w = self.workers.remove(i);
            self.free.retain(|f| *f != w.id);
            if let Some((_, stream)) = w.pending {
                self.backlog.push_front(stream);
            }
            let pid = w.child.id();
            let served = match w.served {
                Some(1) => " (served 1 request)".to_string(),
                Some(n) => format!(" (served {n} requests)"),
                None => String::new(),
            };
            if w.leaving || self.shutting_down {
                say(&format!(
                    "worker {} pid={pid} {}{served}",
                    w.id,
                    describe(status)
                ));
                continue;
            }
            // Died without saying so: replace it, later and later if this keeps happening.
            let now = Instant::now();
            self.backoff = match self.last_death {
                Some(t) if now.duration_since(t) < CRASH_WINDOW => {
                    (self.backoff * 2).clamp(FIRST_BACKOFF, MAX_BACKOFF)
                }
                _ => Duration::ZERO,
            };
            self.last_death = Some(now);
            self.restarts.push(now + self.backoff);
            say(&format!(
                "worker {} pid={pid} died ({}); replacement in {}ms",
                w.id,
                describe(status),
                self.backoff.as_millis()
            ));
        }
        Ok(())
    }
    // ANCHOR_END: reap

    fn start_due_restarts(&mut self) -> io::Result<()> {
        let now = Instant::now();
        let due = self.restarts.iter().filter(|at| **at <= now).count();
        self.restarts.retain(|at| *at > now);
        for _ in 0..due {
            self.fork()?;
        }
        Ok(())
    }

    fn announce_ready(&mut self) {
        let online = self.workers.iter().filter(|w| w.online).count();
        if !self.ready && online == self.opts.workers {
            self.ready = true;
            // Workers come online in any order; from here on, hand out in id order.
            self.free.make_contiguous().sort();
            say(&format!(
                "ready addr={} pid={} workers={} sched={}",
                self.addr,
                std::process::id(),
                online,
                self.opts.sched.name()
            ));
        }
    }

    /// `rr`: take every connection waiting in the kernel's accept queue.
    fn accept_all(&mut self) {
        let Some(listener) = &self.socket else { return };
        while self.backlog.len() < 64 {
            match listener.accept() {
                Ok((stream, _)) => self.backlog.push_back(stream),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break, // queue empty
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(e) => {
                    // EMFILE and the like: the listener stays readable, so polling it
                    // again at once would spin. Leave it out of the poll for a moment.
                    say(&format!(
                        "accept: {e}; pausing {}ms",
                        ACCEPT_PAUSE.as_millis()
                    ));
                    self.accept_pause = Some(Instant::now() + ACCEPT_PAUSE);
                    break;
                }
            }
        }
    }

    // ANCHOR: dispatch
    /// `rr`: offer waiting connections to free workers, one each until it answers.
    fn dispatch(&mut self) {
        while !self.backlog.is_empty() {
            let Some(id) = self.free.pop_front() else {
                return;
            };
            let Some(w) = self.workers.iter_mut().find(|w| w.id == id) else {
                continue;
            };
            let (Some(chan), None) = (&mut w.chan, &w.pending) else {
                continue;
            };
            let Some(stream) = self.backlog.pop_front() else {
                return;
            };
            let seq = self.next_seq;
            self.next_seq += 1;
            // The channel closes the copy it sends once the worker acks; we keep ours
            // until the worker says whether it took the connection.
            let sent = stream
                .try_clone()
                .map_err(HandleError::from)
                .and_then(|copy| {
                    let msg = json!({"cmd": "NODE_CLUSTER", "act": "newconn", "seq": seq});
                    chan.send_handle(HandleKind::Socket, &msg, OwnedFd::from(copy), None)
                });
            match sent {
                Ok(_) => w.pending = Some((seq, stream)),
                Err(_) => self.backlog.push_front(stream), // its channel broke: EOF follows
            }
        }
    }
    // ANCHOR_END: dispatch

    /// During shutdown: tell each worker with nothing in flight to drain and exit.
    fn disconnect_idle(&mut self) {
        if !self.backlog.is_empty() {
            return; // hand out what was accepted before the signal first
        }
        for w in &mut self.workers {
            if let (Some(chan), None, false) = (&mut w.chan, &w.pending, w.disconnect_sent) {
                if !w.online {
                    continue; // it will get the message when it says online
                }
                w.disconnect_sent = true;
                let _ = chan.send(&json!({"cmd": "NODE_CLUSTER", "act": "disconnect"}));
                self.free.retain(|f| *f != w.id);
            }
        }
    }

    fn worker_mut(&mut self, id: u32) -> Option<&mut Worker> {
        self.workers.iter_mut().find(|w| w.id == id)
    }
}

/// One line of the master's log on stdout (line-buffered: each line is written at once).
fn say(line: &str) {
    println!("{line}");
}

/// An exit status in words: `exited with code 0`, `killed by SIGKILL`.
pub fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(sig)) => match Signal::try_from(sig) {
            Ok(s) => format!("killed by {s}"),
            Err(_) => format!("killed by signal {sig}"),
        },
        _ => format!("{status}"),
    }
}
