//! Chapter 3: the server. `cargo run -p lab-03 --bin server -- --mode blocking`
//!
//! Prints `ready addr=… pid=… mode=…` once it accepts connections (its pool, in pool mode,
//! already started), then one line per event
//! (`conn=1 accepted`, `conn=1 compute start …`, `conn=1 response 200 sum=…`).

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use lab_03::compute::run_as_child_if_asked;
use lab_03::{Config, MAX_N, Mode, serve};

/// An HTTP server on one thread whose /compute?n=N sums 0..N: on the event loop or elsewhere.
#[derive(Parser)]
struct Args {
    /// Where /compute runs.
    #[arg(long, value_enum)]
    mode: Mode,
    /// The address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// A whole request must arrive within this many ms (an idle connection is closed then).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    read_timeout_ms: u64,
    /// Connections served at once; more wait until one ends.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    max_connections: u64,
    /// The largest n that /compute accepts.
    #[arg(long, default_value_t = MAX_N)]
    max_n: u64,
    /// pool mode: worker threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=64))]
    pool_workers: u64,
    /// pool mode: jobs that may wait in the queue before /compute answers 503.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pool_queue: u64,
}

fn main() {
    run_as_child_if_asked();
    let args = Args::parse();
    let listener = match TcpListener::bind(args.addr) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("server: cannot listen on {}: {e}", args.addr);
            std::process::exit(1);
        }
    };
    let child_exe = std::env::current_exe().expect("the path of this program");
    let config = Config {
        mode: args.mode,
        read_timeout: Duration::from_millis(args.read_timeout_ms),
        max_connections: args.max_connections as usize,
        max_n: args.max_n,
        pool_workers: args.pool_workers as usize,
        pool_queue: args.pool_queue as usize,
        child_exe,
    };
    // serve() says `ready addr=… pid=… mode=…` once its pool and runtime exist.
    if let Err(e) = serve(listener, config, Arc::new(say)) {
        eprintln!("server: {e}");
        std::process::exit(1);
    }
}

/// One line on stdout; a closed stdout is ignored (the server keeps serving).
fn say(line: String) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
