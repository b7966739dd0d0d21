//! Chapter 3: the exercises' tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lab_03::compute::{formula, sum_to_cooperative, sum_to_parallel};

/// Exercise 3.1: the sum is right, and another task of the same current_thread runtime runs
/// while it is being computed (it would run only at the end if the sum never yielded).
#[test]
fn exercise_3_1_the_cooperative_sum_lets_another_task_run_midway() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (n, slice) in [(0, 1), (1, 1), (10, 3), (1000, 7), (100_000, 1000), (5, 0)] {
        let progress = Arc::new(AtomicU64::new(0));
        let seen = progress.clone();
        let sum = runtime.block_on(async move {
            // Runs when the sum first yields; records how far the sum has got by then.
            let other = tokio::spawn(async move { seen.fetch_add(1, Ordering::SeqCst) });
            let sum = sum_to_cooperative(n, slice).await;
            progress.store(1_000, Ordering::SeqCst);
            let before_end = other.await.unwrap() == 0;
            (sum, before_end, progress)
        });
        assert_eq!(sum.0, formula(n), "n={n} slice={slice}");
        if n > slice.max(1) {
            assert!(
                sum.1,
                "n={n} slice={slice}: the other task did not run before the sum ended"
            );
        }
    }
}

/// Exercise 3.2: any split gives the exact sum, also with more parts than numbers.
#[test]
fn exercise_3_2_the_parallel_sum_is_exact_for_any_split() {
    let pool = lab_10::ThreadPool::new(2, 4);
    for n in [0u64, 1, 2, 7, 100, 1_000_001] {
        for parts in [1u64, 2, 3, 8, 200] {
            assert_eq!(
                sum_to_parallel(&pool, n, parts),
                formula(n),
                "n={n} parts={parts}"
            );
        }
    }
}
