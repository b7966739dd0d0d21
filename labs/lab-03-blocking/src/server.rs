//! Chapter 3: the server. One tokio `current_thread` runtime runs the accept loop and every
//! connection; what differs between the modes is where `/compute` does its work.

use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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
    /// How long a connection may take to send the rest of a request (or the next one).
    pub read_timeout: Duration,
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

/// Serve `listener` forever on a new `current_thread` runtime in this thread. Returns only
/// if the runtime cannot be built or `accept` fails for good.
pub fn serve(listener: std::net::TcpListener, config: Config, log: Log) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let pool = (config.mode == Mode::Pool)
        .then(|| lab_10::ThreadPool::new(config.pool_workers.max(1), config.pool_queue));
    let server = Arc::new(Server { config, log, pool });
    // ANCHOR: runtime
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(accept_loop(listener, server))
    // ANCHOR_END: runtime
}

// ANCHOR: accept_loop
async fn accept_loop(listener: std::net::TcpListener, server: Arc<Server>) -> std::io::Result<()> {
    let listener = TcpListener::from_std(listener)?;
    let mut id = 0u64;
    loop {
        let (stream, _peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of fds, or a connection reset before we took it: not the server's end.
            Err(e) => {
                (server.log)(format!("accept failed: {e}"));
                continue;
            }
        };
        id += 1;
        (server.log)(format!("conn={id} accepted"));
        tokio::spawn(connection(stream, id, server.clone()));
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
                let _ = write_error(&mut stream, &e).await;
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
            Ok(Route::Compute(n)) => compute(&server, id, n).await.map(|s| format!("sum={s}")),
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
                let _ = write_error(&mut stream, &e).await;
                return;
            }
        }
    }
}

enum Failure {
    Http(HttpError),
    Io(std::io::Error),
}

// ANCHOR: read_request
/// Read until `buf` holds a complete head, then read and drop its body. `Ok(None)`: the
/// client closed (or went quiet) between requests. A client that stops in the middle of a
/// request gets `Timeout` after `read_timeout`: it holds its own connection, nothing else.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    read_timeout: Duration,
) -> Result<Option<http::Request>, Failure> {
    let request = loop {
        if let Some((request, used)) = parse_head(buf).map_err(Failure::Http)? {
            buf.drain(..used);
            break request;
        }
        if !read_more(stream, buf, read_timeout).await? {
            return Ok(None);
        }
    };
    while buf.len() < request.content_length {
        if !read_more(stream, buf, read_timeout).await? {
            return Err(Failure::Http(HttpError::Timeout));
        }
    }
    buf.drain(..request.content_length);
    Ok(Some(request))
}

/// One read with the time-out. `Ok(false)`: end of file or silence with nothing pending.
async fn read_more(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    read_timeout: Duration,
) -> Result<bool, Failure> {
    let mut chunk = [0u8; 4096];
    match tokio::time::timeout(read_timeout, stream.read(&mut chunk)).await {
        Ok(Ok(0)) if buf.is_empty() => Ok(false),
        Ok(Ok(0)) => Err(Failure::Http(HttpError::BadRequestLine(format!(
            "the connection closed after {} bytes of an unfinished request",
            buf.len()
        )))),
        Ok(Ok(k)) => {
            buf.extend_from_slice(&chunk[..k]);
            Ok(true)
        }
        Ok(Err(e)) => Err(Failure::Io(e)),
        Err(_elapsed) if buf.is_empty() => Ok(false),
        Err(_elapsed) => Err(Failure::Http(HttpError::Timeout)),
    }
}
// ANCHOR_END: read_request

async fn write_error(stream: &mut TcpStream, e: &HttpError) -> std::io::Result<()> {
    let (status, reason) = e.status();
    stream
        .write_all(&http::response(status, reason, &e.to_string(), false))
        .await?;
    stream.shutdown().await
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
/// Start `PROGRAM --compute-child N` with its stdout on a pipe, read `sum=S` from it, and
/// reap the child. The event loop waits for the pipe and for SIGCHLD, never for the child.
async fn compute_in_child(server: &Server, id: u64, n: u64) -> Result<u128, HttpError> {
    let child = tokio::process::Command::new(&server.config.child_exe)
        .args([CHILD_FLAG, &n.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true) // the connection's task is dropped: no orphan left computing
        .spawn()
        .map_err(|e| internal(format!("cannot start the compute child: {e}")))?;
    let pid = child.id().unwrap_or(0);
    (server.log)(format!("conn={id} compute start n={n} on=child pid={pid}"));
    let output = child
        .wait_with_output() // reads stdout to end of file, then waits: the child is reaped
        .await
        .map_err(|e| internal(format!("the compute child failed: {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    match text.trim().strip_prefix("sum=").map(str::parse::<u128>) {
        Some(Ok(sum)) if output.status.success() => Ok(sum),
        _ => Err(internal(format!(
            "the compute child said {:?} and ended with {}",
            text.trim(),
            output.status
        ))),
    }
}
// ANCHOR_END: compute_in_child

/// A failure of the server's own machinery: a 500 saying what broke.
fn internal(why: String) -> HttpError {
    HttpError::Internal(why)
}
