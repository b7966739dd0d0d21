//! Chapter 10 exercises: tests for `chunked_sum` (10.1) and `scoped_map` (10.2).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

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
