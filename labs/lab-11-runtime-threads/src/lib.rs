//! Lab for chapter 11, the hidden thread pool: the threads of a tokio runtime and of Node,
//! counted from /proc in each phase.
//!
//! Every phase runs in a fresh process (the `threads` binary for tokio, `node/threads.cjs`
//! for Node), counts its threads in `/proc/self/task` before and after doing one thing,
//! and prints one line: `PHASE: BEFORE -> AFTER threads (+ADDED): NAMES`.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, RwLock, mpsc};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

pub mod exercises;

/// Worker threads of every runtime in this lab: fixed, so that counts do not depend on the
/// machine's CPUs.
pub const WORKERS: usize = 2;

/// The names of this process's threads, main first, then by tid (`/proc/self/task/*/comm`).
pub fn thread_names() -> io::Result<Vec<String>> {
    let threads = labkit::proc::threads(std::process::id())?;
    Ok(threads.into_iter().map(|t| t.name).collect())
}

/// [`thread_names`], once every thread has named itself. A new thread starts with its
/// creator's name and sets its own a moment later (std does it first thing in the new
/// thread), so a list read right after a spawn may show the main thread's name twice.
pub fn settled_names() -> io::Result<Vec<String>> {
    labkit::eventually(labkit::DEFAULT_TIMEOUT, || {
        let names = thread_names().map_err(|e| e.to_string())?;
        match names.split_first() {
            Some((main, others)) if others.contains(main) => {
                Err(format!("a new thread has not named itself yet: {names:?}"))
            }
            _ => Ok(names),
        }
    })
}

/// Names with runs of the same name folded: `node x11`, `rt-worker-0, rt-worker-1`.
pub fn fold_names(names: &[String]) -> String {
    let mut parts: Vec<(String, usize)> = Vec::new();
    for name in names {
        match parts.last_mut() {
            Some((last, n)) if last == name => *n += 1,
            _ => parts.push((name.clone(), 1)),
        }
    }
    let parts: Vec<String> = parts
        .into_iter()
        .map(|(name, n)| if n == 1 { name } else { format!("{name} x{n}") })
        .collect();
    parts.join(", ")
}

// ANCHOR: runtime
/// A multi-thread runtime with `WORKERS` workers whose threads say what they are. tokio
/// starts each worker as a job of its blocking pool, and `thread_name_fn` names every
/// thread that pool starts: the first `WORKERS` threads are started for the workers.
pub fn runtime(max_blocking: usize, keep_alive: Duration) -> io::Result<Runtime> {
    let started = AtomicUsize::new(0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .max_blocking_threads(max_blocking)
        .thread_keep_alive(keep_alive)
        .thread_name_fn(move || {
            let n = started.fetch_add(1, Ordering::Relaxed);
            if n < WORKERS {
                format!("rt-worker-{n}")
            } else {
                format!("rt-blocking-{}", n - WORKERS)
            }
        })
        .enable_all()
        .build()?;
    // The workers' jobs wait in the pool's queue until those threads take them. A blocking
    // job queued before that could be taken by a thread named for a worker, and a worker
    // by the thread named for the job. So wait until every worker has run (parked once).
    let metrics = rt.metrics();
    labkit::eventually(labkit::DEFAULT_TIMEOUT, || {
        match (0..WORKERS).find(|&w| metrics.worker_park_count(w) == 0) {
            Some(w) => Err(format!("worker {w} has not run yet")),
            None => Ok(()),
        }
    })?;
    Ok(rt)
}
// ANCHOR_END: runtime

/// tokio's defaults for the blocking pool (`Builder::max_blocking_threads`,
/// `Builder::thread_keep_alive`), which the phases keep unless they are about them.
pub const DEFAULT_MAX_BLOCKING: usize = 512;
/// See [`DEFAULT_MAX_BLOCKING`].
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);
/// The keep-alive of the `retired` phase: short, so that the test waits little.
pub const SHORT_KEEP_ALIVE: Duration = Duration::from_millis(50);
/// Blocking jobs held at once in the `jobs-8` phase.
pub const JOBS: usize = 8;
/// `max_blocking_threads` of the `ceiling-4` phase, which gives the pool [`JOBS`] jobs.
pub const CEILING: usize = 4;

/// What each phase does once the runtime is up. Node's probe has the same names.
pub const PHASES: [(&str, &str); 11] = [
    ("idle", "nothing"),
    ("read-file", "read one file (tokio::fs::read)"),
    (
        "read-file-pool-64",
        "read one file, max_blocking_threads(64)",
    ),
    ("jobs-8", "8 spawn_blocking jobs held at a Barrier"),
    (
        "ceiling-4",
        "8 spawn_blocking jobs held, max_blocking_threads(4)",
    ),
    ("tcp-ip", "connect to 127.0.0.1:PORT and echo"),
    ("tcp-localhost", "connect to localhost:PORT and echo"),
    ("lookup", "tokio::net::lookup_host(\"localhost:80\")"),
    ("timer", "tokio::time::sleep(10 ms)"),
    ("stdout", "write a line with tokio::io::stdout"),
    ("retired", "read one file, wait for keep-alive (50 ms)"),
];

/// The thread names before and after a phase, as the probe line reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseReport {
    pub phase: String,
    pub before: Vec<String>,
    pub after: Vec<String>,
    /// A line the phase prints before its count (`ceiling-4` says how many jobs wait).
    pub note: Option<String>,
}

impl PhaseReport {
    /// `read-file: 3 -> 4 threads (+1): threads, rt-worker-0, rt-worker-1, rt-blocking-0`,
    /// after the phase's note (and a newline) if it has one.
    pub fn line(&self) -> String {
        let note = self
            .note
            .as_ref()
            .map_or(String::new(), |n| format!("{n}\n"));
        format!(
            "{note}{}: {} -> {} threads (+{}): {}",
            self.phase,
            self.before.len(),
            self.after.len(),
            self.after.len().saturating_sub(self.before.len()),
            fold_names(&self.after)
        )
    }
}

/// Build a runtime, count, do the phase, count again. `before` is counted once the
/// runtime is up, so it holds main and the workers.
pub fn run_phase(phase: &str) -> io::Result<PhaseReport> {
    let (max_blocking, keep_alive) = match phase {
        "read-file-pool-64" => (64, DEFAULT_KEEP_ALIVE),
        "ceiling-4" => (CEILING, DEFAULT_KEEP_ALIVE),
        "retired" => (DEFAULT_MAX_BLOCKING, SHORT_KEEP_ALIVE),
        _ => (DEFAULT_MAX_BLOCKING, DEFAULT_KEEP_ALIVE),
    };
    let rt = runtime(max_blocking, keep_alive)?;
    let before = settled_names()?;
    let mut note = None;
    let after = match phase {
        "idle" => settled_names()?,
        "read-file" | "read-file-pool-64" => {
            rt.block_on(read_a_file())?;
            settled_names()?
        }
        "jobs-8" => hold_blocking_jobs(&rt, JOBS)?,
        "ceiling-4" => {
            let (running, names) = fill_to_the_ceiling(&rt, JOBS, CEILING)?;
            note = Some(format!(
                "{phase}: {JOBS} jobs, {running} running, {} queued",
                JOBS - running
            ));
            names
        }
        "tcp-ip" => rt.block_on(echo_over_tcp("127.0.0.1"))?,
        "tcp-localhost" => rt.block_on(echo_over_tcp("localhost"))?,
        "lookup" => {
            let addrs: Vec<_> = rt
                .block_on(tokio::net::lookup_host("localhost:80"))?
                .collect();
            if addrs.is_empty() {
                return Err(io::Error::other("localhost resolved to nothing"));
            }
            settled_names()?
        }
        "timer" => {
            rt.block_on(async { tokio::time::sleep(Duration::from_millis(10)).await });
            settled_names()?
        }
        "stdout" => rt.block_on(write_stdout("a line written by tokio::io::stdout\n"))?,
        "retired" => {
            rt.block_on(read_a_file())?;
            // The blocking thread exits on its own after the keep-alive: nothing to wait
            // on but /proc. (A list read while a thread exits can come out short, so wait
            // for the very same names as before, not just the same count.)
            labkit::eventually(labkit::DEFAULT_TIMEOUT, || {
                let names = thread_names().map_err(|e| e.to_string())?;
                if names == before {
                    Ok(names)
                } else {
                    Err(format!("{names:?}, waiting for {before:?}"))
                }
            })?
        }
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unknown phase {other:?}"),
            ));
        }
    };
    Ok(PhaseReport {
        phase: phase.to_string(),
        before,
        after,
        note,
    })
}

// ANCHOR: fs
/// `tokio::fs` has no asynchronous file I/O to call: every function sends the blocking
/// `std::fs` call to the blocking pool and awaits its result.
async fn read_a_file() -> io::Result<()> {
    let bytes = tokio::fs::read("/proc/self/stat").await?;
    assert!(!bytes.is_empty());
    Ok(())
}
// ANCHOR_END: fs

// ANCHOR: jobs
/// Start `jobs` blocking jobs that all wait at one barrier with this thread: when this
/// thread passes the barrier, every job is running, each on a thread of its own. Count
/// then, and let them go.
fn hold_blocking_jobs(rt: &Runtime, jobs: usize) -> io::Result<Vec<String>> {
    let all_running = Arc::new(Barrier::new(jobs + 1));
    let counted = Arc::new(Barrier::new(jobs + 1));
    let handles: Vec<_> = (0..jobs)
        .map(|_| {
            let (all_running, counted) = (all_running.clone(), counted.clone());
            rt.spawn_blocking(move || {
                all_running.wait();
                counted.wait();
            })
        })
        .collect();
    all_running.wait();
    let names = settled_names();
    counted.wait();
    for handle in handles {
        rt.block_on(handle).map_err(io::Error::other)?;
    }
    names
}
// ANCHOR_END: jobs

// ANCHOR: ceiling
/// Give a pool capped at `cap` threads `jobs` jobs that each report their start and then
/// wait at a gate this thread keeps shut. Once `cap` have started, the pool is full: count
/// the threads, and how many jobs have started, then open the gate. The queued jobs start
/// after that, find the gate open and end at once.
fn fill_to_the_ceiling(rt: &Runtime, jobs: usize, cap: usize) -> io::Result<(usize, Vec<String>)> {
    let gate = Arc::new(RwLock::new(()));
    let shut = gate
        .write()
        .map_err(|_| io::Error::other("gate poisoned"))?;
    let started = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..jobs)
        .map(|_| {
            let (gate, started, tx) = (gate.clone(), started.clone(), tx.clone());
            rt.spawn_blocking(move || {
                started.fetch_add(1, Ordering::SeqCst);
                let _ = tx.send(());
                drop(gate.read());
            })
        })
        .collect();
    for _ in 0..cap.min(jobs) {
        rx.recv_timeout(labkit::DEFAULT_TIMEOUT)
            .map_err(|e| io::Error::other(format!("a job did not start: {e}")))?;
    }
    let names = settled_names();
    // Every pool thread is held at the gate, so no other job can have started.
    let running = started.load(Ordering::SeqCst);
    drop(shut);
    for handle in handles {
        rt.block_on(handle).map_err(io::Error::other)?;
    }
    Ok((running, names?))
}
// ANCHOR_END: ceiling

// ANCHOR: tcp
/// A server on 127.0.0.1 in this process, and a client that connects to `host` (an IP
/// literal or a name) and gets its bytes echoed. Counted while both ends are open.
async fn echo_over_tcp(host: &str) -> io::Result<Vec<String>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let server = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await?;
        let mut buf = [0u8; 5];
        conn.read_exact(&mut buf).await?;
        conn.write_all(&buf).await?;
        io::Result::Ok(conn)
    });
    // A string that parses as an address is used as it is; any other string is a name,
    // and tokio resolves it with getaddrinfo on the blocking pool.
    let mut client = TcpStream::connect(format!("{host}:{port}")).await?;
    client.write_all(b"hello").await?;
    let mut echo = [0u8; 5];
    client.read_exact(&mut echo).await?;
    assert_eq!(&echo, b"hello");
    let _conn = server.await.map_err(io::Error::other)??;
    settled_names()
}
// ANCHOR_END: tcp

// ANCHOR: stdout
/// Write `text` with `tokio::io::stdout` and count the threads while the write is under
/// way. `write_all` hands the bytes to a job on the blocking pool and returns; `flush` then
/// waits for that job and queues another one that flushes. Counted after the flush, the
/// answer would be +1 or +2: a pool thread that has just finished a job is not idle until
/// it is back in the pool's wait, so the flush may find no idle thread and start a second.
async fn write_stdout(text: &str) -> io::Result<Vec<String>> {
    let mut out = tokio::io::stdout();
    out.write_all(text.as_bytes()).await?;
    let names = settled_names();
    out.flush().await?;
    names
}
// ANCHOR_END: stdout

// ANCHOR: default_names
/// The names of a runtime's threads built without `thread_name_fn`, after one blocking
/// job: the workers and the blocking thread all get tokio's default name.
pub fn default_names() -> io::Result<Vec<String>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()?;
    rt.block_on(rt.spawn_blocking(|| ()))
        .map_err(io::Error::other)?;
    settled_names()
}
// ANCHOR_END: default_names

/// One probe line parsed back: `(phase, before, after)`.
pub fn parse_line(line: &str) -> Option<(String, usize, usize)> {
    let (phase, rest) = line.split_once(": ")?;
    let (before, rest) = rest.split_once(" -> ")?;
    let (after, _) = rest.split_once(" threads")?;
    Some((phase.to_string(), before.parse().ok()?, after.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_runs_of_names() {
        let names: Vec<String> = ["a", "b", "b", "c", "b"].map(String::from).into();
        assert_eq!(fold_names(&names), "a, b x2, c, b");
    }

    #[test]
    fn parses_a_probe_line() {
        assert_eq!(
            parse_line("read-file: 7 -> 11 threads (+4): node x11"),
            Some(("read-file".into(), 7, 11))
        );
        assert_eq!(parse_line("nonsense"), None);
    }
}
