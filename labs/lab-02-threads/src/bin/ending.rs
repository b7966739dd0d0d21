//! Chapter 2 demo: the process ends, and every thread with it.
//!
//! `cargo run -p lab-02 --bin ending` returns from `main` while a detached thread still
//! runs; `-- --exit-in-worker 3` has a worker call `std::process::exit(3)` while main
//! waits in `join`.

use clap::Parser;
use lab_02::ending::{detach_an_endless_worker, exit_from_a_worker};

/// Show that returning from main, or exit on any thread, ends every thread.
#[derive(Parser)]
struct Args {
    /// Instead: a worker calls `std::process::exit(CODE)` while main waits in `join`.
    #[arg(long, value_name = "CODE")]
    exit_in_worker: Option<u8>,
}

fn main() {
    let args = Args::parse();
    let result = match args.exit_in_worker {
        Some(code) => exit_from_a_worker(code.into()),
        None => detach_an_endless_worker().map(|threads| {
            println!("main: started `endless` and dropped its JoinHandle");
            println!("main: the threads now: {}", threads.join(", "));
            println!("main: returning from main, `endless` still running");
        }),
    };
    if let Err(e) = result {
        eprintln!("ending: cannot start a thread: {e}");
        std::process::exit(1);
    }
}
