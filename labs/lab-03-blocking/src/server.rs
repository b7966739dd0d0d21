//! Chapter 3: the server. One tokio `current_thread` runtime runs the accept loop and every
//! connection; what differs between the modes is where `/compute` does its work.

use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::compute::{CHILD_FLAG, sum_to};
use crate::http::{self, HttpError, Route, parse_head};

/// Where `/compute` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// On the event loop itself: every other connection waits.
    Blocking,
    /// On tokio's blocking pool (`spawn_blocking`).
    SpawnBlocking,
    /// On chapter 10's `ThreadPool`.
    Pool,
    /// In a child process that replies over a pipe.
    Process,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Blocking => "blocking",
            Mode::SpawnBlocking => "spawn-blocking",
            Mode::Pool => "pool",
            Mode::Process => "process",
        })
    }
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    /// How long a connection may take to send a whole request, counted from the moment the
    /// server starts waiting for it (an idle keep-alive connection is closed after this long).
    pub read_timeout: Duration,
    /// At most this many connections are served at once; the next ones wait in the kernel's
    /// accept queue until one ends.
    pub max_connections: usize,
    /// The largest `n` that `/compute` accepts.
    pub max_n: u64,
    /// `pool` mode: the number of worker threads and the queue's capacity.
    pub pool_workers: usize,
    pub pool_queue: usize,
    /// `process` mode: the program started as `PROGRAM --compute-child N`. It must call
    /// [`crate::compute::run_as_child_if_asked`] first thing in `main`.
    pub child_exe: PathBuf,
}

/// A line of the server's event log (`conn=1 accepted`, `conn=1 compute start …`): what
/// the tests and the timeline snapshots read.
pub type Event = String;

/// Where the event log goes: the server binary prints it, the experiment collects it.
pub type Log = Arc<dyn Fn(Event) + Send + Sync>;

struct Server {
    config: Config,
    log: Log,
    pool: Option<lab_10::ThreadPool>,
}

/// Serve `listener` forever on a new `current_thread` runtime in this thread. Once the pool
/// (pool mode) and the runtime exist, logs `ready addr=… pid=… mode=…`. Returns only if the
/// runtime cannot be built.
pub fn serve(listener: std::net::TcpListener, config: Config, log: Log) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let pool = (config.mode == Mode::Pool)
        .then(|| lab_10::ThreadPool::new(config.pool_workers.max(1), config.pool_queue));
    let mode = config.mode;
    let server = Arc::new(Server { config, log, pool });
    // ANCHOR: runtime
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // ANCHOR_END: runtime
    let pid = std::process::id();
    (server.log)(format!("ready addr={addr} pid={pid} mode={mode}"));
    runtime.block_on(accept_loop(listener, server));
    Ok(())
}

/// How long the accept loop pauses after `accept` fails (out of file descriptors, say): a
/// loop that retried at once would spin at 100% CPU and flood the log.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

// ANCHOR: accept_loop
async fn accept_loop(listener: std::net::TcpListener, server: Arc<Server>) {
    let listener = TcpListener::from_std(listener).expect("a listener inside the runtime");
    // One permit per connection: at the cap, the loop stops accepting until one ends.
    let slots = Arc::new(Semaphore::new(server.config.max_connections));
    let mut id = 0u64;
    loop {
        let slot = slots.clone().acquire_owned().await.expect("never closed");
        let (stream, _peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of fds, or a connection reset before we took it: pause, then try again.
            Err(e) => {
                (server.log)(format!("accept failed: {e} (pausing accepts for 100 ms)"));
                tokio::time::sleep(ACCEPT_PAUSE).await;
                continue;
            }
        };
        id += 1;
        (server.log)(format!("conn={id} accepted"));
        let server = server.clone();
        tokio::spawn(async move {
            connection(stream, id, server).await;
            drop(slot); // the connection is over: the next one may be accepted
        });
    }
}
// ANCHOR_END: accept_loop

/// Serve one connection: requests one after another (keep-alive) until the client closes,
/// asks to close, sends something wrong, or stalls.
async fn connection(mut stream: TcpStream, id: u64, server: Arc<Server>) {
    let log = |e: String| (server.log)(format!("conn={id} {e}"));
    let mut buf = Vec::with_capacity(1024);
    loop {
        let request = match read_request(&mut stream, &mut buf, server.config.read_timeout).await {
            Ok(Some(request)) => request,
            Ok(None) => {
                log("closed".into());
                return;
            }
            Err(Failure::Http(e)) => {
                let (status, _) = e.status();
                log(format!("error {status} {e}"));
                let _ = write_error(&mut stream, &e, server.config.read_timeout).await;
                return;
            }
            Err(Failure::Io(e)) => {
                log(format!("read failed: {e}"));
                return;
            }
        };
        log(format!("request {} {}", request.method, request.target));
        let answer = match http::route(&request, server.config.max_n) {
            Ok(Route::Root) => Ok("ok".to_string()),
            Ok(Route::Compute(n)) => {
                // Race the compute against the client hanging up (as Go's net/http does, end
                // of file counts as gone, unless a pipelined request is already here). In
                // process mode losing the race kills the child (KillOnDrop); work on a
                // thread cannot be stopped: it runs to its end, for nobody.
                let watch = buf.is_empty();
                tokio::select! {
                    sum = compute(&server, id, n) => sum.map(|s| format!("sum={s}")),
                    () = hung_up(&stream, watch) => {
                        log("client gone during the compute".into());
                        return;
                    }
                }
            }
            Err(e) => Err(e),
        };
        match answer {
            Ok(body) => {
                let bytes = http::response(200, "OK", &body, request.keep_alive);
                if stream.write_all(&bytes).await.is_err() {
                    log("client gone".into());
                    return;
                }
                log(format!("response 200 {body}"));
                if !request.keep_alive {
                    return;
                }
            }
            Err(e) => {
                log(format!("error {} {e}", e.status().0));
                let _ = write_error(&mut stream, &e, server.config.read_timeout).await;
                return;
            }
        }
    }
}

// ANCHOR: hung_up
/// Resolves once the client has closed its side (a peek sees end of file). If `watch` is
/// false, the client sends more (a pipelined request) or the peek fails: never resolves.
async fn hung_up(stream: &TcpStream, watch: bool) {
    let mut byte = [0u8; 1];
    if watch && let Ok(0) = stream.peek(&mut byte).await {
        return;
    }
    std::future::pending().await
}
// ANCHOR_END: hung_up

enum Failure {
    Http(HttpError),
    Io(std::io::Error),
}

// ANCHOR: read_request
/// Read until `buf` holds a complete head, then read and drop its body. `Ok(None)`: the
/// client closed (or stayed quiet) between requests. The whole request must arrive within
/// `read_timeout` of the moment we start waiting for it, so a client that sends one byte at
/// a time cannot hold the connection for longer (after an error answer, [`write_error`] may
/// keep it up to one more second); one that stops midway gets `Timeout`. It holds its own
/// connection only, nothing else.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    read_timeout: Duration,
) -> Result<Option<http::Request>, Failure> {
    let deadline = Instant::now() + read_timeout;
    let request = loop {
        if let Some((request, used)) = parse_head(buf).map_err(Failure::Http)? {
            buf.drain(..used);
            break request;
        }
        match read_more(stream, buf, deadline).await? {
            Got::Bytes => {}
            Got::End | Got::Quiet if buf.is_empty() => return Ok(None),
            Got::End => return Err(cut_off(format!("{} bytes of a head", buf.len()))),
            Got::Quiet => return Err(Failure::Http(HttpError::Timeout)),
        }
    };
    while buf.len() < request.content_length {
        match read_more(stream, buf, deadline).await? {
            Got::Bytes => {}
            Got::End => {
                let why = format!("{} of {} body bytes", buf.len(), request.content_length);
                return Err(cut_off(why));
            }
            Got::Quiet => return Err(Failure::Http(HttpError::Timeout)),
        }
    }
    buf.drain(..request.content_length);
    Ok(Some(request))
}

/// What one read brought.
enum Got {
    Bytes,
    /// End of file: the client closed its side.
    End,
    /// Nothing before the deadline.
    Quiet,
}

/// One read, given up at `deadline`.
async fn read_more(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    deadline: Instant,
) -> Result<Got, Failure> {
    let mut chunk = [0u8; 4096];
    match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
        Ok(Ok(0)) => Ok(Got::End),
        Ok(Ok(k)) => {
            buf.extend_from_slice(&chunk[..k]);
            Ok(Got::Bytes)
        }
        Ok(Err(e)) => Err(Failure::Io(e)),
        Err(_elapsed) => Ok(Got::Quiet),
    }
}
// ANCHOR_END: read_request

/// The longest a connection is kept open after an error answer, and the most it may send
/// meanwhile, while [`write_error`] waits for the client to finish.
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 64 * 1024;

/// Answer with an error and close, in two steps (RFC 9112, section 9.6, "Tear-down").
///
/// The surprise: closing a socket whose receive queue still holds unread bytes makes Linux
/// abort the connection with a reset (RST; RFC 1122, 4.2.2.13), here right after our FIN.
/// On Linux the client can still read an answer that has arrived, but one still on its way
/// (a lost packet is never sent again: our socket is gone) or held by a system that drops
/// received data on a reset is lost; a Linux client that writes or half-closes after the
/// reset gets EPIPE or ENOTCONN. An error often comes with unread input: a head over 8 KiB
/// is refused once about 8 KiB of it has been read. So: send the answer, half-close (FIN),
/// then read and drop what the client still sends until its own end of file, for at most
/// `min(read_timeout, LINGER_TIME)` and `LINGER_BYTES`; after that we close anyway.
async fn write_error(
    stream: &mut TcpStream,
    e: &HttpError,
    read_timeout: Duration,
) -> std::io::Result<()> {
    let (status, reason) = e.status();
    stream
        .write_all(&http::response(status, reason, &e.to_string(), false))
        .await?;
    stream.shutdown().await?;
    let deadline = Instant::now() + read_timeout.min(LINGER_TIME);
    let mut scratch = [0u8; 4096];
    let mut dropped = 0;
    while dropped < LINGER_BYTES {
        match tokio::time::timeout_at(deadline, stream.read(&mut scratch)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break, // end of file, an error, or time
            Ok(Ok(n)) => dropped += n,
        }
    }
    Ok(())
}

// ANCHOR: compute
/// Run `/compute?n=N` where the mode says.
async fn compute(server: &Server, id: u64, n: u64) -> Result<u128, HttpError> {
    let log = |e: String| (server.log)(format!("conn={id} {e}"));
    let sum = match server.config.mode {
        Mode::Blocking => {
            log(format!("compute start n={n} on=event-loop"));
            sum_to(n) // the loop runs right here, on the runtime's only thread
        }
        Mode::SpawnBlocking => {
            log(format!("compute start n={n} on=blocking-pool"));
            tokio::task::spawn_blocking(move || sum_to(n))
                .await
                .map_err(|e| internal(format!("the blocking task failed: {e}")))?
        }
        Mode::Pool => {
            let pool = server.pool.as_ref().expect("pool mode has a pool");
            let (tx, rx) = tokio::sync::oneshot::channel();
            // try_submit, not submit: submit blocks while the queue is full, and blocking
            // here would block the event loop again. A full queue is a 503.
            pool.try_submit(move || {
                let _ = tx.send(sum_to(n));
            })
            .map_err(|_full| HttpError::Busy)?;
            log(format!("compute start n={n} on=pool"));
            rx.await
                .map_err(|_| internal("the pool dropped the job".into()))?
        }
        Mode::Process => compute_in_child(server, id, n).await?,
    };
    log("compute done".into());
    Ok(sum)
}
// ANCHOR_END: compute

// ANCHOR: compute_in_child
/// Start `PROGRAM --compute-child N SERVER_PID` with its stdout on a pipe, read `sum=S` from
/// it, and reap the child. The event loop waits for the pipe's end of file and the child's
/// exit (tokio watches a pidfd, or SIGCHLD where pidfds are missing), never for the child.
async fn compute_in_child(server: &Server, id: u64, n: u64) -> Result<u128, HttpError> {
    let spawned = tokio::process::Command::new(&server.config.child_exe)
        .args([CHILD_FLAG, &n.to_string(), &std::process::id().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| internal(format!("cannot start the compute child: {e}")))?;
    // If this future is dropped (its client hung up: see `connection`), the guard kills the
    // child and reaps it. No drop code runs if the server itself is killed: for that, the
    // child asked the kernel for SIGKILL when its parent dies (`child_main`).
    let mut guard = KillOnDrop(Some(spawned));
    let child = guard.0.as_mut().expect("just spawned");
    let pid = child.id().unwrap_or(0);
    (server.log)(format!("conn={id} compute start n={n} on=child pid={pid}"));
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut out = Vec::new();
    // Read stdout to end of file and wait for the exit, both at once: the child is reaped.
    let (read, status) = tokio::join!(stdout.read_to_end(&mut out), child.wait());
    guard.0 = None; // reaped: nothing left to kill
    let status = read
        .and(status)
        .map_err(|e| internal(format!("the compute child failed: {e}")))?;
    let text = String::from_utf8_lossy(&out);
    match text.trim().strip_prefix("sum=").map(str::parse::<u128>) {
        Some(Ok(sum)) if status.success() => Ok(sum),
        _ => Err(internal(format!(
            "the compute child said {:?} and ended with {status}",
            text.trim(),
        ))),
    }
}

/// Owns a running child: dropped before the child was reaped, it sends SIGKILL and leaves a
/// task on the runtime that reaps it (tokio's own `kill_on_drop` kills, but reaps only
/// later, when another child is spawned: a zombie stays until then).
struct KillOnDrop(Option<tokio::process::Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.start_kill();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = child.wait().await;
                });
            }
        }
    }
}
// ANCHOR_END: compute_in_child

/// The client closed its side in the middle of a request: a 400 saying how much came.
fn cut_off(what: String) -> Failure {
    Failure::Http(HttpError::Incomplete(what))
}

/// A failure of the server's own machinery: a 500 saying what broke.
fn internal(why: String) -> HttpError {
    HttpError::Internal(why)
}
