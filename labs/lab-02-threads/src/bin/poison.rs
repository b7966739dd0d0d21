//! Chapter 2 demo: a panic while holding a `Mutex` poisons it; the data is still there.
//!
//! `cargo run -p lab-02 --bin poison`

use clap::Parser;
use lab_02::poison::poison_and_recover;

/// Panic with and without a lock held, then recover the poisoned data.
#[derive(Parser)]
struct Args {}

fn main() {
    Args::parse();
    for line in poison_and_recover() {
        println!("{line}");
    }
}
