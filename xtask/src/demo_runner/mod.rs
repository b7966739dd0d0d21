//! `cargo xtask runner`: run the chapters' demos from the book's pages, with a live view of
//! their processes.
//!
//! A local server on 127.0.0.1 serves the built book and a small API that the book's own
//! script (`runner.js`, added through `book.toml`) calls:
//! - `GET /api/demos?page=01-processes.html`: the demos that page lists, by number;
//! - `POST /api/run {"id": N}`: build and run demo N; the answer streams one JSON event per
//!   line (`build`, `start`, `stdout`, `stderr`, `procs`, `exit`, `error`) until it ends.
//!
//! Like Jupyter, it prints the URL to open with a random token in the fragment; the page
//! keeps the token in `sessionStorage` and sends it in a header. Security, each with a test:
//! - it binds 127.0.0.1 only, and refuses a `Host` that is not 127.0.0.1/localhost at its
//!   port (a DNS-rebinding page cannot reach it), or an `Origin` that is not its own;
//! - the API needs the token; the token is never logged;
//! - it runs only the demos the chapters list (book-tests' parser), each a lab binary with a
//!   fixed argument vector, started without a shell; a request names a demo by number, so
//!   there is no argument to smuggle anything in;
//! - one run per demo at a time, at most [`MAX_RUNS`] at once, a time limit per run, and the
//!   demo's process group killed when the run ends, is cancelled or the page goes away.

mod allow;
mod procs;
mod run;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, Request};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use serde_json::{Value, json};

use allow::Runnable;

/// Demos running at once, across all pages, unless told otherwise.
pub const MAX_RUNS: usize = 3;

/// The header that carries the token.
const TOKEN_HEADER: &str = "x-runner-token";

/// How the runner was started.
#[derive(Debug)]
pub struct Options {
    /// 0: let the kernel pick.
    pub port: u16,
    /// Serve this built book (the directory with index.html) instead of building it.
    pub book: Option<PathBuf>,
    /// Do not build demos before running them (they must be built already).
    pub prebuilt: bool,
    pub time_limit: Duration,
    /// Demos running at once ([`MAX_RUNS`] by default).
    pub max_runs: usize,
}

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct State(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    root: PathBuf,
    demos: Vec<Runnable>,
    token: String,
    port: u16,
    prebuilt: bool,
    time_limit: Duration,
    max_runs: usize,
    running: Mutex<BTreeSet<usize>>,
    /// Children the runner started itself (demos, cargo): never reaped here, tokio waits.
    own: Mutex<BTreeSet<u32>>,
    /// Orphans re-parented to the runner (pid, start time), killed when it exits.
    adopted: Mutex<BTreeMap<u32, u64>>,
}

impl std::ops::Deref for State {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl State {
    fn finished(&self, id: usize) {
        lock(&self.running).remove(&id);
    }

    fn own_child(&self, pid: u32, add: bool) {
        let mut own = lock(&self.own);
        if add {
            own.insert(pid);
        } else {
            own.remove(&pid);
        }
    }

    /// Orphans the kernel re-parented to the runner: reap those that are zombies, remember
    /// the others (to kill them when the runner exits), and return the live ones.
    fn adopt(&self) -> Vec<u32> {
        let own = lock(&self.own).clone();
        let mut live = Vec::new();
        for p in procs::adopted_by(std::process::id(), &own) {
            if p.state == 'Z' {
                let _ = waitpid(Pid::from_raw(p.pid as i32), Some(WaitPidFlag::WNOHANG));
                lock(&self.adopted).remove(&p.pid);
            } else {
                lock(&self.adopted).insert(p.pid, p.starttime);
                live.push(p.pid);
            }
        }
        live
    }

    /// Kill every adopted orphan that is still the same process.
    fn kill_adopted(&self) {
        for (pid, starttime) in std::mem::take(&mut *lock(&self.adopted)) {
            if labkit::proc::stat(pid).is_ok_and(|s| s.starttime == starttime) {
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
                let _ = waitpid(Pid::from_raw(pid as i32), None);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// 32 hex digits from the kernel's random source.
fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Refuse what did not come from the book's own page on this machine.
fn refuse(status: StatusCode, why: &str) -> Response {
    (status, format!("{why}\n")).into_response()
}

/// Every request: the Host must be this server (DNS rebinding), and an Origin, when the
/// browser sends one, must be the book's own. API requests also need the token.
async fn guard(state: axum::extract::State<State>, req: Request, next: Next) -> Response {
    let port = state.port;
    let host_ok = |h: &str| h == format!("127.0.0.1:{port}") || h == format!("localhost:{port}");
    let origin_ok = |o: &str| {
        o == format!("http://127.0.0.1:{port}") || o == format!("http://localhost:{port}")
    };
    let headers = req.headers();
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let verdict = if !text(header::HOST).is_some_and(host_ok) {
        Some((StatusCode::FORBIDDEN, "wrong Host"))
    } else if text(header::ORIGIN).is_some_and(|o| !origin_ok(o)) {
        Some((StatusCode::FORBIDDEN, "wrong Origin"))
    } else if path.starts_with("/api/")
        && headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok()) != Some(state.token.as_str())
    {
        Some((StatusCode::FORBIDDEN, "missing or wrong token"))
    } else {
        None
    };
    if let Some((status, why)) = verdict {
        // The path only: never the query or the headers, where a token could be.
        eprintln!("runner: {method} {path}: {} ({why})", status.as_u16());
        return refuse(status, why);
    }
    next.run(req).await
}

#[derive(serde::Deserialize)]
struct PageQuery {
    page: String,
}

async fn list_demos(state: axum::extract::State<State>, Query(q): Query<PageQuery>) -> Json<Value> {
    let demos: Vec<Value> = state
        .demos
        .iter()
        .filter(|d| d.page == q.page)
        .map(Runnable::to_json)
        .collect();
    Json(json!({ "demos": demos }))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    id: usize,
}

async fn run_demo(state: axum::extract::State<State>, body: axum::body::Bytes) -> Response {
    let Ok(RunRequest { id }) = serde_json::from_slice(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "expected {\"id\": N}");
    };
    let Some(demo) = state.demos.get(id).cloned() else {
        eprintln!("runner: POST /api/run: 404 (no demo {id})");
        return refuse(StatusCode::NOT_FOUND, "no such demo");
    };
    {
        let mut running = lock(&state.running);
        if running.contains(&id) {
            return refuse(StatusCode::CONFLICT, "this demo is running already");
        }
        if running.len() >= state.max_runs {
            return refuse(StatusCode::TOO_MANY_REQUESTS, "too many demos running");
        }
        running.insert(id);
    }
    eprintln!("runner: run demo {id} ({}): {}", demo.page, demo.shown);
    let (tx, rx) = tokio::sync::mpsc::channel::<Value>(64);
    tokio::spawn(run::drive(state.0.clone(), demo, tx));
    let lines = tokio_stream::wrappers::ReceiverStream::new(rx)
        .map(|event| Ok::<_, std::convert::Infallible>(format!("{event}\n")));
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_stream(lines))
        .unwrap_or_else(|_| refuse(StatusCode::INTERNAL_SERVER_ERROR, "response"))
}

use tokio_stream::StreamExt as _;

/// Build the book (unless given one), bind, print the URL, serve until Ctrl-C or SIGTERM.
pub fn serve(root: &Path, options: Options) -> Result<(), String> {
    let html = match &options.book {
        Some(dir) => dir.clone(),
        None => {
            let out = root.join("target/runner/book");
            crate::book_check::build_site(root, &out)?
        }
    };
    let demos = allow::allow_list(root);
    // Daemons a demo starts (chapter 8) leave its group; as a subreaper the runner becomes
    // their parent, sees them in the live view, and kills them when it exits.
    nix::sys::prctl::set_child_subreaper(true).map_err(|e| format!("prctl: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
            .await
            .map_err(|e| format!("cannot bind 127.0.0.1:{}: {e}", options.port))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let state = State(Arc::new(Inner {
            root: root.to_path_buf(),
            demos,
            token: new_token()?,
            port,
            prebuilt: options.prebuilt,
            time_limit: options.time_limit,
            max_runs: options.max_runs,
            running: Mutex::default(),
            own: Mutex::default(),
            adopted: Mutex::default(),
        }));
        let app = axum::Router::new()
            .route("/api/demos", get(list_demos))
            .route("/api/run", post(run_demo))
            .fallback_service(tower_http::services::ServeDir::new(&html))
            .layer(middleware::from_fn_with_state(state.clone(), guard))
            .with_state(state.clone());
        println!(
            "runner ready url=http://127.0.0.1:{port}/#runner={} demos={} pid={}",
            state.token,
            state.demos.len(),
            std::process::id()
        );
        eprintln!(
            "runner: open the URL above; demos run on this machine as {}. Ctrl-C stops the runner and every demo.",
            nix::unistd::User::from_uid(nix::unistd::geteuid())
                .ok()
                .flatten()
                .map(|u| u.name)
                .unwrap_or_else(|| "you".into())
        );
        let stop = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
            .map_err(|e| e.to_string())?;
        state.kill_adopted();
        eprintln!("runner: stopped");
        Ok(())
    })
}
