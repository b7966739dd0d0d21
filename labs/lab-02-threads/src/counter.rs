//! Chapter 2: one counter, many threads.
//!
//! `threads` threads each add 1 to a shared counter `increments` times. Done right, the
//! total is exactly `threads * increments`. Done as "read the value, then write the value
//! plus one", two threads can read the same value and one of the two updates is lost.
//!
//! All three versions use `std::thread::scope`, so the threads can borrow the counter
//! from this function's stack; the scope joins them before it returns.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;

// ANCHOR: mutex
/// The counter behind a lock: each increment holds the lock for a moment.
pub fn count_with_mutex(threads: usize, increments: u64) -> u64 {
    let counter = Mutex::new(0u64);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..increments {
                    // EXERCISE: add one to the counter while holding its lock.
                    // BEGIN SOLUTION
                    *counter.lock().unwrap() += 1;
                    // END SOLUTION
                }
            });
        }
    });
    counter.into_inner().unwrap()
}
// ANCHOR_END: mutex

// ANCHOR: atomic
/// The counter as an atomic integer: the CPU does read-add-write as one indivisible step.
pub fn count_with_atomic(threads: usize, increments: u64) -> u64 {
    let counter = AtomicU64::new(0);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..increments {
                    // EXERCISE: add one to the counter in a single atomic step.
                    // BEGIN SOLUTION
                    counter.fetch_add(1, Ordering::Relaxed);
                    // END SOLUTION
                }
            });
        }
    });
    counter.into_inner()
}
// ANCHOR_END: atomic

// ANCHOR: racy
/// The broken counter: read, then write. Each access is atomic, so there is no undefined
/// behaviour, but another thread can write between our read and our write, and then our
/// write throws its update away.
pub fn count_racy(threads: usize, increments: u64) -> u64 {
    let counter = AtomicU64::new(0);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..increments {
                    let seen = counter.load(Ordering::Relaxed);
                    counter.store(seen + 1, Ordering::Relaxed);
                }
            });
        }
    });
    counter.into_inner()
}
// ANCHOR_END: racy

// ANCHOR: replay
/// Force the unlucky interleaving of two racy increments, one step at a time, and return
/// what happened. A barrier after each step fixes the order, so the outcome is always
/// the same: both threads read 0, both write 1, and one increment is lost.
pub fn replay_lost_update() -> Vec<String> {
    let counter = AtomicU64::new(0);
    let log = Mutex::new(Vec::new());
    let step = Barrier::new(2);
    let say = |line: String| log.lock().unwrap().push(line);
    thread::scope(|s| {
        for name in ["A", "B"] {
            let (counter, step, say) = (&counter, &step, &say);
            s.spawn(move || {
                // Step 1: A reads. Step 2: B reads. Step 3: A writes. Step 4: B writes.
                let (read_turn, write_turn) = if name == "A" { (1, 3) } else { (2, 4) };
                let mut seen = 0;
                for turn in 1..=4 {
                    if turn == read_turn {
                        seen = counter.load(Ordering::Relaxed);
                        say(format!("step {turn}: thread {name} reads  {seen}"));
                    }
                    if turn == write_turn {
                        counter.store(seen + 1, Ordering::Relaxed);
                        say(format!("step {turn}: thread {name} writes {}", seen + 1));
                    }
                    step.wait();
                }
            });
        }
    });
    let total = counter.into_inner();
    let mut log = log.into_inner().unwrap();
    log.push(format!(
        "two increments, final value {total}: {} lost",
        2 - total
    ));
    log
}
// ANCHOR_END: replay

#[cfg(test)]
mod tests {
    use super::*;

    // Unoptimised test builds are slow: keep the work small, the checks exact.
    const THREADS: usize = 4;
    const INCREMENTS: u64 = 20_000;
    const EXACT: u64 = THREADS as u64 * INCREMENTS;

    #[test]
    fn the_mutex_counter_is_exact() {
        assert_eq!(count_with_mutex(THREADS, INCREMENTS), EXACT);
    }

    #[test]
    fn the_atomic_counter_is_exact() {
        assert_eq!(count_with_atomic(THREADS, INCREMENTS), EXACT);
    }

    #[test]
    fn the_racy_counter_never_exceeds_the_exact_total() {
        // Lost updates only ever lose: every write is "some value read + 1".
        for _ in 0..5 {
            let total = count_racy(THREADS, INCREMENTS);
            assert!((1..=EXACT).contains(&total), "{total}");
        }
    }

    #[test]
    fn the_racy_counter_is_exact_with_one_thread() {
        assert_eq!(count_racy(1, INCREMENTS), INCREMENTS);
    }

    #[test]
    fn zero_threads_or_increments_count_nothing() {
        assert_eq!(count_with_mutex(0, INCREMENTS), 0);
        assert_eq!(count_with_atomic(THREADS, 0), 0);
    }
}
