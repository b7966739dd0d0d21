//! Chapter 3: the exercises' tests.

use std::sync::Mutex;

use lab_03::compute::{formula, sum_range, sum_to_cooperative, sum_to_parallel};

/// Exercise 3.1: the sum is right, and a task of the same current_thread runtime that
/// watches `progress` sees the count after every slice (all but the last while the sum is
/// still running). A sum that
/// yields only at the end (or publishes only at the end) shows the watcher one value at most.
#[test]
fn exercise_3_1_a_watcher_sees_every_slice_while_the_sum_runs() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (n, slice) in [(0, 1), (1, 1), (10, 3), (1000, 7), (100_000, 1000), (5, 0)] {
        let (sum, seen) = runtime.block_on(async move {
            let (progress, mut watch) = tokio::sync::watch::channel(0u64);
            // Records every count it is woken for, and what it saw once the sum had ended.
            let watcher = tokio::spawn(async move {
                let mut seen = Vec::new();
                while watch.changed().await.is_ok() {
                    seen.push(*watch.borrow_and_update());
                }
                seen
            });
            let sum = sum_to_cooperative(n, slice, &progress).await;
            let before_end = {
                tokio::task::yield_now().await; // let the watcher take the last count
                drop(progress); // the watcher's loop ends on the next wake-up
                watcher.await.unwrap()
            };
            (sum, before_end)
        });
        assert_eq!(sum, formula(n), "n={n} slice={slice}");
        let step = slice.max(1);
        let expected: Vec<u64> = (1..=n.div_ceil(step)).map(|k| (k * step).min(n)).collect();
        assert_eq!(
            seen, expected,
            "n={n} slice={slice}: the counts the watcher saw"
        );
    }
}

/// The ranges `sum_range` was called with, and the name of the thread that ran each.
static CALLS: Mutex<Vec<(u64, u64, String)>> = Mutex::new(Vec::new());

fn recording_sum_range(start: u64, end: u64) -> u128 {
    let name = std::thread::current().name().unwrap_or("").to_string();
    CALLS.lock().unwrap().push((start, end, name));
    sum_range(start, end)
}

/// Exercise 3.2: any split gives the exact sum, also with more parts than numbers, and the
/// `parts` ranges cover `0..n` exactly, each summed on a pool worker (`pool-*`), not by the
/// caller.
#[test]
fn exercise_3_2_the_parallel_sum_runs_its_parts_on_the_pool() {
    let pool = lab_10::ThreadPool::new(2, 4);
    for n in [0u64, 1, 2, 7, 100, 1_000_001] {
        for parts in [0u64, 1, 2, 3, 8, 200] {
            CALLS.lock().unwrap().clear();
            assert_eq!(
                sum_to_parallel(&pool, n, parts, recording_sum_range),
                formula(n),
                "n={n} parts={parts}"
            );
            let mut calls = std::mem::take(&mut *CALLS.lock().unwrap());
            assert_eq!(
                calls.len() as u64,
                parts.max(1),
                "n={n} parts={parts}: jobs"
            );
            calls.sort();
            let mut next = 0;
            for (start, end, thread) in &calls {
                assert!(
                    thread.starts_with("pool-"),
                    "n={n} parts={parts}: {calls:?}"
                );
                if start < end {
                    assert_eq!(
                        *start, next,
                        "n={n} parts={parts}: gap or overlap: {calls:?}"
                    );
                    next = *end;
                }
            }
            assert_eq!(
                next, n,
                "n={n} parts={parts}: the ranges end at n: {calls:?}"
            );
        }
    }
}
