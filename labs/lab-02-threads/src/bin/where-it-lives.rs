//! Chapter 2 demo: every thread's local variable is on its own stack; the shared `Vec`
//! is at one heap address for all of them.
//!
//! `cargo run -p lab-02 --bin where-it-lives -- --workers 3`

use clap::Parser;
use lab_02::memory::{shared_heap_own_stacks, sightings};

/// Show where each thread's local variable and the shared data live.
#[derive(Parser)]
struct Args {
    /// How many scoped worker threads to start besides main.
    #[arg(long, default_value_t = 3)]
    workers: usize,
}

fn main() {
    let args = Args::parse();
    let seen = sightings(args.workers);
    for s in &seen {
        println!(
            "{:<9} local at {:#x} in {:<10} shared Vec at {:#x} in {}",
            s.thread, s.local_addr, s.local_region, s.shared_addr, s.shared_region
        );
    }
    let (one_shared, own_stacks) = shared_heap_own_stacks(&seen);
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    println!(
        "one address for the shared Vec in every thread: {}",
        yes_no(one_shared)
    );
    println!(
        "a different local address in every thread:     {}",
        yes_no(own_stacks)
    );
}
