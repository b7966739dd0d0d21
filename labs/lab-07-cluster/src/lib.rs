//! Lab for chapter 7, cluster mode: a prefork HTTP "hello" server in the shape of Node's
//! `cluster` module.
//!
//! - [`master`]: the single-threaded master. It starts the workers (this program again,
//!   with `NODE_UNIQUE_ID` set, as Node's `cluster.fork()` does), restarts the ones that
//!   die, drains them on SIGINT/SIGTERM, and in `rr` mode accepts every connection itself
//!   and hands it to a free worker over lab-06's [`lab_06::HandleChannel`].
//! - [`worker`]: a worker: a poll loop on its channel (and on a listener in `shared` and
//!   `reuseport` mode), one thread per connection.
//! - [`sched`]: the three schedulers and the sockets each one needs.
//! - [`http`]: the smallest HTTP/1.1 request parser that serves keep-alive connections and
//!   answers garbage with `400`.
//! - [`exercises`]: the chapter's exercises.

pub mod exercises;
pub mod http;
pub mod master;
pub mod sched;
pub mod worker;

pub use sched::Sched;

/// The environment variable that makes this program a worker, with the worker's id (the
/// name Node uses for the same purpose).
pub const WORKER_ID_VAR: &str = "NODE_UNIQUE_ID";

/// If this process was started as a worker, run the worker and never return; otherwise
/// return and let `main` go on as the master. Every binary that can be a master calls this
/// first, because the master starts its workers from its own executable.
pub fn run_worker_if_asked() {
    if let Some(id) = std::env::var_os(WORKER_ID_VAR) {
        let code = worker::main(&id.to_string_lossy());
        std::process::exit(code);
    }
}
