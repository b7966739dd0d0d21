//! Chapter 3: the work the server does, and the child process that can do it instead.

use std::hint::black_box;

/// The largest `n` that `/compute` accepts: 10^10, the seeds' example (about 15 s of work
/// in Node). A bigger `n` is a `400`; the server's `--max-n` can change the limit.
pub const MAX_N: u64 = 10_000_000_000;

// ANCHOR: sum_to
/// The exact sum of `0..n`, one addition at a time: CPU work that never waits for anything.
/// `black_box` stops the compiler from replacing the loop with the formula n(n-1)/2.
pub fn sum_to(n: u64) -> u128 {
    let mut sum: u128 = 0;
    for i in 0..n {
        sum += black_box(i) as u128;
    }
    sum
}
// ANCHOR_END: sum_to

/// The formula, for checking: n(n-1)/2.
pub fn formula(n: u64) -> u128 {
    let n = n as u128;
    n * n.saturating_sub(1) / 2
}

/// The argument that makes a lab binary the `process` mode's compute child.
pub const CHILD_FLAG: &str = "--compute-child";

// ANCHOR: child_main
/// If this process was started as a compute child (`PROGRAM --compute-child N`), compute,
/// write `sum=S` to stdout (a pipe to the server) and exit. Call it first thing in `main`.
pub fn run_as_child_if_asked() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some(CHILD_FLAG) {
        return;
    }
    let code = match args.next().and_then(|n| n.parse::<u64>().ok()) {
        Some(n) => {
            println!("sum={}", sum_to(n));
            0
        }
        None => {
            eprintln!("compute child: expected {CHILD_FLAG} N");
            2
        }
    };
    std::process::exit(code);
}
// ANCHOR_END: child_main

/// Exercise 3.1: the sum of `0..n`, computed ON the event loop, but in slices of `slice`
/// additions with a `tokio::task::yield_now().await` after each slice, so that other tasks
/// of a `current_thread` runtime run in between. Same result as [`sum_to`].
pub async fn sum_to_cooperative(n: u64, slice: u64) -> u128 {
    // EXERCISE: 3.1 add up 0..n in slices of `slice` numbers, yielding to the runtime after each
    // BEGIN SOLUTION
    let slice = slice.max(1);
    let mut sum: u128 = 0;
    let mut start = 0;
    while start < n {
        let end = start.saturating_add(slice).min(n);
        for i in start..end {
            sum += black_box(i) as u128;
        }
        start = end;
        tokio::task::yield_now().await;
    }
    sum
    // END SOLUTION
}

/// Exercise 3.2: the sum of `0..n` split into `parts` ranges, one job per range on
/// chapter 10's pool, the partial sums added up. Same result as [`sum_to`] for any
/// `parts` ≥ 1 (more parts than numbers is allowed: some ranges are empty).
pub fn sum_to_parallel(pool: &lab_10::ThreadPool, n: u64, parts: u64) -> u128 {
    // EXERCISE: 3.2 split 0..n into `parts` ranges, sum each on the pool, add the results
    // BEGIN SOLUTION
    let parts = parts.max(1);
    let step = n.div_ceil(parts).max(1);
    let handles: Vec<_> = (0..parts)
        .map(|k| {
            let start = k.saturating_mul(step).min(n);
            let end = start.saturating_add(step).min(n);
            pool.submit(move || {
                let mut sum: u128 = 0;
                for i in start..end {
                    sum += black_box(i) as u128;
                }
                sum
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("a summing job does not panic"))
        .sum()
    // END SOLUTION
}
