//! Chapter 2 demo: one lost update, replayed step by step with barriers.
//!
//! `cargo run -p lab-02 --bin lost-update`

use clap::Parser;
use lab_02::counter::replay_lost_update;

/// Replay two racy increments in the unlucky order and show that one is lost.
#[derive(Parser)]
struct Args {}

fn main() {
    Args::parse();
    for line in replay_lost_update() {
        println!("{line}");
    }
}
