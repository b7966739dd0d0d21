//! Chapter 7: `cluster`, a prefork HTTP hello server. The master binds, starts the
//! workers, and prints `ready addr=… pid=… workers=N sched=S` once every one is online.
//!
//! ```text
//! cargo run --release -p lab-07 --bin cluster -- --workers 2 --sched rr
//! curl http://127.0.0.1:PORT/        # hello from worker PID
//! curl http://127.0.0.1:PORT/crash   # that worker leaves; a replacement comes first
//! ```

use std::net::SocketAddrV4;

use clap::Parser;
use lab_07::Sched;
use lab_07::master::{self, Options};

/// A prefork HTTP server in the shape of Node's cluster: a master and N workers.
#[derive(Parser, Debug)]
#[command(name = "cluster")]
struct Args {
    /// How many workers (default: the CPUs this process may use).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    workers: Option<u16>,
    /// Who accepts connections: the master (rr), every worker on one shared listener
    /// (shared), or every worker on its own SO_REUSEPORT listener (reuseport).
    #[arg(long, value_enum, default_value = "rr")]
    sched: Sched,
    /// The address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddrV4,
    /// Each worker's connection limit: in rr mode a full worker declines the connection
    /// it is offered, and the master offers it to another one.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), default_value_t = lab_07::worker::MAX_CONNECTIONS as u32)]
    max_connections: u32,
    /// Seconds a client may take to send a request's head (from its first byte) before
    /// the worker answers 408 and closes the connection.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), default_value_t = lab_07::worker::HEAD_TIMEOUT.as_secs() as u32)]
    head_timeout: u32,
}

fn main() {
    lab_07::run_worker_if_asked();
    let args = Args::parse();
    let workers = args
        .workers
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let opts = Options {
        workers,
        sched: args.sched,
        addr: args.addr,
        max_connections: Some(args.max_connections as usize),
        head_timeout: Some(std::time::Duration::from_secs(args.head_timeout.into())),
    };
    match master::run(opts) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("cluster: {e}");
            std::process::exit(1);
        }
    }
}
