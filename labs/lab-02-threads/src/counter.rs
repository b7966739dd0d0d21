//! Chapter 2: one counter, many threads.
//!
//! `threads` threads each add 1 to a shared counter `increments` times. Done right, the
//! total is exactly `threads * increments`. Done as "read the value, then write the value
//! plus one", two threads can read the same value and one of the two updates is lost.
//! Done best, the threads do not share the counter at all: each counts in a slot of its
//! own and the slots are added up at the end.
//!
//! Every version uses `std::thread::scope`, so the threads can borrow the counter from
//! this function's stack; the scope joins them before it returns.

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
                    // The guard is a temporary: the lock is released at the `;`.
                    *counter.lock().unwrap() += 1;
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
                    counter.fetch_add(1, Ordering::Relaxed);
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

// ANCHOR: sharded
/// One counter per thread, each on a cache line of its own (128 bytes: some CPUs fetch
/// lines in pairs). A thread only ever touches its own slot; the total is the sum.
#[repr(align(128))]
#[derive(Debug, Default)]
pub struct PaddedSlot(AtomicU64);

/// The sharded counter: no two threads write the same memory, so nothing is lost and no
/// cache line travels between cores.
pub fn count_sharded(threads: usize, increments: u64) -> u64 {
    count_in_own_slots::<PaddedSlot>(threads, increments)
}

/// The same, but with the slots packed next to each other, eight to a 64-byte line: the
/// threads share no *variable*, yet they share cache lines ("false sharing").
pub fn count_sharded_unpadded(threads: usize, increments: u64) -> u64 {
    count_in_own_slots::<AtomicU64>(threads, increments)
}

fn count_in_own_slots<S: Slot>(threads: usize, increments: u64) -> u64 {
    let slots: Vec<S> = (0..threads).map(|_| S::default()).collect();
    thread::scope(|s| {
        for slot in &slots {
            // `move` gives each thread its own `&S`: one slot, never another's.
            s.spawn(move || {
                for _ in 0..increments {
                    slot.counter().fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    slots
        .iter()
        .map(|slot| slot.counter().load(Ordering::Relaxed))
        .sum()
}
// ANCHOR_END: sharded

/// Something that holds one counter: a bare atomic or a padded one.
trait Slot: Default + Sync {
    fn counter(&self) -> &AtomicU64;
}

impl Slot for AtomicU64 {
    fn counter(&self) -> &AtomicU64 {
        self
    }
}

impl Slot for PaddedSlot {
    fn counter(&self) -> &AtomicU64 {
        &self.0
    }
}

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
    fn the_sharded_counters_are_exact() {
        assert_eq!(count_sharded(THREADS, INCREMENTS), EXACT);
        assert_eq!(count_sharded_unpadded(THREADS, INCREMENTS), EXACT);
    }

    #[test]
    fn a_padded_slot_fills_whole_cache_lines() {
        assert_eq!(std::mem::align_of::<PaddedSlot>(), 128);
        assert_eq!(std::mem::size_of::<PaddedSlot>(), 128);
        assert_eq!(std::mem::size_of::<AtomicU64>(), 8);
    }

    #[test]
    fn the_racy_counter_ends_between_two_and_the_exact_total() {
        // Lost updates only ever lose: every write is "some value read + 1", so the total
        // cannot exceed the exact one. Nor can it fall below 2: the final value is some
        // thread's last store, made after a load that came after that thread's own first
        // store; every store writes at least 1, so that load saw at least 1.
        for _ in 0..5 {
            let total = count_racy(THREADS, INCREMENTS);
            assert!((2..=EXACT).contains(&total), "{total}");
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
        assert_eq!(count_sharded(0, INCREMENTS), 0);
    }
}
