//! Chapter 3: the work the server does, and the child process that can do it instead.

use std::hint::black_box;

/// The largest `n` that `/compute` accepts: 10^10, the seeds' example (about a minute of
/// work in Node, which did 10^8 additions in about 0.6 s in a review run). A bigger `n` is a `400`; the server's `--max-n` can change the limit.
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
/// If this process was started as a compute child (`PROGRAM --compute-child N SERVER_PID`),
/// compute, write `sum=S` to stdout (a pipe to the server) and exit. Call it first thing in
/// `main`.
pub fn run_as_child_if_asked() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some(CHILD_FLAG) {
        return;
    }
    let n = args.next().and_then(|n| n.parse::<u64>().ok());
    let server = args.next().and_then(|p| p.parse::<i32>().ok());
    let (Some(n), Some(server)) = (n, server) else {
        eprintln!("compute child: expected {CHILD_FLAG} N SERVER_PID");
        std::process::exit(2);
    };
    // Die with the server: when the thread that started us ends (the server killed, say),
    // the kernel sends us SIGKILL. If the server was already gone, stop now.
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    if nix::unistd::getppid().as_raw() != server {
        std::process::exit(3);
    }
    println!("sum={}", sum_to(n));
    std::process::exit(0);
}
// ANCHOR_END: child_main

/// The exact sum of `start..end` (0 when the range is empty): one part of a split sum.
pub fn sum_range(start: u64, end: u64) -> u128 {
    let mut sum: u128 = 0;
    for i in start..end {
        sum += black_box(i) as u128;
    }
    sum
}

/// Exercise 3.1: the sum of `0..n`, computed ON the event loop, in slices of `slice`
/// numbers (0 counts as 1). After each slice it publishes how many numbers are done on
/// `progress` and yields (`tokio::task::yield_now().await`), so that a task of the same
/// `current_thread` runtime watching `progress` sees every slice's count before the sum
/// ends. Same result as [`sum_to`].
pub async fn sum_to_cooperative(
    n: u64,
    slice: u64,
    progress: &tokio::sync::watch::Sender<u64>,
) -> u128 {
    // EXERCISE: 3.1 add up 0..n in slices; after each, publish the count done and yield
    // BEGIN SOLUTION
    let slice = slice.max(1);
    let mut sum: u128 = 0;
    let mut done = 0;
    while done < n {
        let end = done.saturating_add(slice).min(n);
        sum += sum_range(done, end);
        done = end;
        progress.send_replace(done);
        tokio::task::yield_now().await;
    }
    sum
    // END SOLUTION
}

/// Exercise 3.2: the sum of `0..n` split into `parts` ranges (0 counts as 1), one job per
/// range on chapter 10's pool, each job calling `sum_range(start, end)`, the partial sums
/// added up. More parts than numbers is allowed: some ranges are empty. Same result as
/// [`sum_to`]; the test passes a `sum_range` that also records which thread ran it.
pub fn sum_to_parallel(
    pool: &lab_10::ThreadPool,
    n: u64,
    parts: u64,
    sum_range: fn(u64, u64) -> u128,
) -> u128 {
    // EXERCISE: 3.2 split 0..n into `parts` ranges, sum each on the pool, add the results
    // BEGIN SOLUTION
    let parts = parts.max(1);
    let step = n.div_ceil(parts).max(1);
    let handles: Vec<_> = (0..parts)
        .map(|k| {
            let start = k.saturating_mul(step).min(n);
            let end = start.saturating_add(step).min(n);
            pool.submit(move || sum_range(start, end))
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("a summing job does not panic"))
        .sum()
    // END SOLUTION
}
