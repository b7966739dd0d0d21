//! Chapter 10 exercises: tests for `chunked_sum` (10.1) and `scoped_map` (10.2).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;

use labkit::{DEFAULT_TIMEOUT, eventually};

use lab_10::ThreadPool;
use lab_10::exercises::{chunked_sum, scoped_map};

#[test]
fn exercise_10_1_chunked_sum_adds_every_piece() {
    let pool = ThreadPool::new(2, 4);
    for len in [0usize, 1, 7, 1000] {
        let data: Arc<Vec<u64>> = Arc::new((1..=len as u64).collect());
        let expected: u64 = data.iter().sum();
        for chunks in [1, 3, 16] {
            assert_eq!(
                chunked_sum(&pool, Arc::clone(&data), chunks),
                Some(expected),
                "len {len}, {chunks} chunks"
            );
        }
    }
}

#[test]
fn exercise_10_1_chunked_sum_more_chunks_than_the_queue_holds() {
    // 64 pieces through a queue of 1: submit waits for room, nothing deadlocks.
    let pool = ThreadPool::new(2, 1);
    let data = Arc::new(vec![2u64; 640]);
    assert_eq!(chunked_sum(&pool, data, 64), Some(1280));
}

#[test]
fn exercise_10_1_chunked_sum_submits_every_piece_before_joining_any() {
    // The only worker is held by a gate, so no piece can run. Each queued piece holds a clone
    // of the Arc: all four must be queued at once, which a version that submits and joins one
    // piece at a time never reaches (it waits in its first join, with one piece queued).
    let pool = ThreadPool::new(1, 4);
    let data = Arc::new(vec![3u64; 100]);
    let (started_tx, started) = mpsc::channel();
    let (gate_tx, gate) = mpsc::channel::<()>();
    let held = pool.submit(move || {
        started_tx.send(()).unwrap();
        let _ = gate.recv();
    });
    started.recv().unwrap();
    thread::scope(|s| {
        let summing = s.spawn(|| chunked_sum(&pool, Arc::clone(&data), 4));
        // Ours + the argument of chunked_sum + one per queued piece.
        let queued = eventually(DEFAULT_TIMEOUT, || match Arc::strong_count(&data) {
            n if n >= 6 => Ok(true),
            _ if summing.is_finished() => Ok(false), // returned or panicked: stop waiting
            n => Err(format!("{} piece(s) queued, not 4", n.saturating_sub(2))),
        });
        drop(gate_tx); // by value: dropped here, or when a panic leaves this closure
        assert!(
            queued.unwrap(),
            "chunked_sum ended while its pieces could not run"
        );
        assert_eq!(summing.join().unwrap(), Some(300));
    });
    held.join().unwrap();
}

#[test]
#[cfg(debug_assertions)]
fn exercise_10_1_a_panicking_piece_gives_none() {
    // u64 overflow panics in a debug build: the piece's panic becomes None, not a crash.
    let pool = ThreadPool::new(1, 1);
    assert_eq!(chunked_sum(&pool, Arc::new(vec![u64::MAX, 1]), 1), None);
}

#[test]
fn exercise_10_2_scoped_map_keeps_order_on_borrowed_data() {
    let words: Vec<String> = (0..500).map(|i| format!("w{i}")).collect();
    let suffix = String::from("!"); // borrowed by f, not 'static
    let out = scoped_map(&words, 3, |w| format!("{w}{suffix}"));
    let expected: Vec<String> = words.iter().map(|w| format!("{w}!")).collect();
    assert_eq!(out, expected);
    assert!(scoped_map(&Vec::<u8>::new(), 2, |x| *x).is_empty());
}

#[test]
fn exercise_10_2_scoped_map_uses_at_most_the_given_threads() {
    let seen = Mutex::new(HashSet::new());
    let items: Vec<u32> = (0..2000).collect();
    let out = scoped_map(&items, 2, |x| {
        seen.lock().unwrap().insert(std::thread::current().id());
        x * 2
    });
    assert_eq!(out.iter().sum::<u32>(), 2 * items.iter().sum::<u32>());
    let seen = seen.into_inner().unwrap();
    assert!(
        !seen.is_empty() && seen.len() <= 2,
        "{} threads",
        seen.len()
    );
    assert!(
        !seen.contains(&std::thread::current().id()),
        "the caller is not a worker"
    );
}

#[test]
fn exercise_10_2_scoped_map_shares_the_work_between_threads() {
    // The first call of f on each thread waits until two threads are inside f at once (or
    // the deadline passes: a failure, not a hang). One thread doing everything never meets.
    let inside = Mutex::new(HashSet::new());
    let met = Condvar::new();
    let gave_up = AtomicBool::new(false);
    let items: Vec<u32> = (0..8).collect();
    let out = scoped_map(&items, 2, |x| {
        let mut ids = inside.lock().unwrap();
        if ids.insert(thread::current().id()) {
            met.notify_all();
        }
        if !gave_up.load(Ordering::Relaxed) {
            let (ids_after, waited) = met
                .wait_timeout_while(ids, DEFAULT_TIMEOUT, |ids| ids.len() < 2)
                .unwrap();
            ids = ids_after;
            if waited.timed_out() {
                gave_up.store(true, Ordering::Relaxed);
            }
        }
        drop(ids);
        x + 1
    });
    assert_eq!(out, (1..=8).collect::<Vec<u32>>());
    assert!(
        !gave_up.load(Ordering::Relaxed),
        "no two threads ran f at the same time: the work was not shared"
    );
    assert_eq!(inside.into_inner().unwrap().len(), 2);
}
