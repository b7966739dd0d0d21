//! Chapter 3: the tokio analogue of a starved event loop.
//! `cargo run -p lab-03 --bin starve -- --n 100000000 [--yield-every K]`
//!
//! A `current_thread` runtime has one thread. A task that computes without ever reaching
//! an `.await` that returns `Pending` keeps that thread: a task spawned before it, ready to
//! run, waits until it ends. With `--yield-every K` the loop calls
//! `tokio::task::yield_now().await` every K numbers and the other task gets its turn.

use clap::Parser;
use std::hint::black_box;

/// A task that never yields starves a current_thread runtime.
#[derive(Parser)]
struct Args {
    /// Numbers to add up in the busy task.
    #[arg(long, default_value_t = 100_000_000)]
    n: u64,
    /// Yield to the runtime every K numbers (default: never).
    #[arg(long)]
    yield_every: Option<u64>,
}

// ANCHOR: starve
fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let other = tokio::spawn(async { println!("other task: runs") });
        println!("busy task: start, n={}", args.n);
        let mut sum: u128 = 0;
        for i in 0..args.n {
            sum += black_box(i) as u128;
            if args.yield_every.is_some_and(|k| k > 0 && (i + 1) % k == 0) {
                println!("busy task: yields after {} numbers", i + 1);
                tokio::task::yield_now().await;
            }
        }
        println!("busy task: done, sum={sum}");
        other.await.expect("the other task");
    });
}
// ANCHOR_END: starve
