//! Chapter 10 exercises: two new uses of what the chapter built. Neither function appears on
//! the page; the tests in `tests/exercises.rs` check them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use crate::ThreadPool;

/// Sums `data` on `pool` in `chunks` pieces of nearly equal length (the first
/// `data.len() % chunks` pieces one element longer), submitting every piece before joining
/// any, and adds the pieces' sums. `chunks` is at least 1; pieces may be empty when
/// `chunks > data.len()`. A panicking piece makes this return `None`.
pub fn chunked_sum(pool: &ThreadPool, data: Arc<Vec<u64>>, chunks: usize) -> Option<u64> {
    assert!(chunks >= 1, "at least one chunk");
    // EXERCISE: split 0..data.len() into `chunks` ranges, submit one job per range (each job
    // clones the Arc and sums its range), then join every handle and add the sums.
    // BEGIN SOLUTION
    let len = data.len();
    let (base, extra) = (len / chunks, len % chunks);
    let mut start = 0;
    let handles: Vec<_> = (0..chunks)
        .map(|i| {
            let end = start + base + usize::from(i < extra);
            let data = Arc::clone(&data);
            let range = start..end;
            start = end;
            pool.submit(move || data[range].iter().sum::<u64>())
        })
        .collect();
    let mut total = 0u64;
    for handle in handles {
        total += handle.join().ok()?;
    }
    Some(total)
    // END SOLUTION
}

/// Applies `f` to every item with at most `workers` scoped threads and no queue at all:
/// each thread claims the next unclaimed index from a shared atomic counter until none is
/// left. Returns the results in the items' order, and works on borrowed data (`items` and
/// `f` need not be `'static`).
pub fn scoped_map<T, U, F>(items: &[T], workers: usize, f: F) -> Vec<U>
where
    T: Sync,
    U: Send,
    F: Fn(&T) -> U + Sync,
{
    assert!(workers >= 1, "at least one worker");
    // EXERCISE: start `workers` threads with std::thread::scope; each loops on
    // `next.fetch_add(1, Relaxed)`, computes `f(&items[i])` for each index it claims, and
    // returns its (index, result) pairs; put the pairs back in order.
    // BEGIN SOLUTION
    let next = AtomicUsize::new(0);
    let mut pairs: Vec<(usize, U)> = thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, f(item)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker panicked"))
            .collect()
    });
    pairs.sort_by_key(|(i, _)| *i);
    pairs.into_iter().map(|(_, u)| u).collect()
    // END SOLUTION
}
