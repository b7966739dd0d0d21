//! Chapter 2 demo: thread-locals and the signal mask belong to one thread each.
//!
//! `cargo run -p lab-02 --bin per-thread`

use clap::Parser;
use lab_02::per_thread::per_thread_state;

/// Show each thread's copy of a thread-local and its blocked signals (SigBlk).
#[derive(Parser)]
struct Args {}

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
        Err(e) => {
            eprintln!("per-thread: cannot read /proc: {e}");
            std::process::exit(1);
        }
    }
}
