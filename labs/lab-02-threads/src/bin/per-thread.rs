//! Chapter 2 demo: thread-locals and the signal mask belong to one thread each.
//!
//! `cargo run -p lab-02 --bin per-thread`

use clap::Parser;
use lab_02::per_thread::{
    cwd_after_a_worker_moves, per_thread_state, who_handles_a_process_signal,
};

/// Show each thread's copy of a thread-local and its blocked signals (SigBlk), which
/// thread handles a signal sent to the process, and the shared working directory.
#[derive(Parser)]
struct Args {}

fn fail(what: &str, e: std::io::Error) -> ! {
    eprintln!("per-thread: {what}: {e}");
    std::process::exit(1);
}

fn main() {
    Args::parse();
    match per_thread_state() {
        Ok(states) => {
            println!("process pid={}", std::process::id());
            for t in states {
                let blocked = if t.blocked.is_empty() {
                    "none".to_string()
                } else {
                    t.blocked.join(" ")
                };
                println!(
                    "{:<8} tid={}  HANDLED={}  SigBlk: {blocked}",
                    t.name, t.tid, t.handled
                );
            }
        }
        Err(e) => fail("cannot start a thread or read /proc", e),
    }
    match who_handles_a_process_signal() {
        Ok(deliveries) => {
            for d in deliveries {
                let blocked_by = if d.main_blocked {
                    "main and blocker"
                } else {
                    "blocker only"
                };
                println!(
                    "kill(pid, SIGUSR1), blocked by {blocked_by}: handled by {} (tid={})",
                    d.handled_by, d.tid
                );
            }
        }
        Err(e) => fail("cannot send or handle SIGUSR1", e),
    }
    match cwd_after_a_worker_moves(std::path::Path::new("/")) {
        Ok(cwd) => println!(
            "a worker ran chdir(\"/\"); main's working directory is now {}",
            cwd.display()
        ),
        Err(e) => fail("cannot change directory", e),
    }
}
