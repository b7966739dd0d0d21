//! Chapter 3: the server. `cargo run -p lab-03 --bin server -- --mode blocking`
//!
//! Prints `ready addr=… pid=… mode=…` once it accepts connections, then one line per event
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
    /// Close a connection that sends nothing (or half a request) for this long.
    #[arg(long, default_value_t = 10_000)]
    read_timeout_ms: u64,
    /// The largest n that /compute accepts.
    #[arg(long, default_value_t = MAX_N)]
    max_n: u64,
    /// pool mode: worker threads.
    #[arg(long, default_value_t = 2)]
    pool_workers: usize,
    /// pool mode: jobs that may wait in the queue before /compute answers 503.
    #[arg(long, default_value_t = 16)]
    pool_queue: usize,
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
        max_n: args.max_n,
        pool_workers: args.pool_workers,
        pool_queue: args.pool_queue,
        child_exe,
    };
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    say(format!(
        "ready addr={addr} pid={} mode={}",
        std::process::id(),
        args.mode
    ));
    if let Err(e) = serve(listener, config, Arc::new(say)) {
        eprintln!("server: {e}");
        std::process::exit(1);
    }
}

/// One line on stdout; a closed stdout is ignored (the server keeps serving).
fn say(line: String) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
