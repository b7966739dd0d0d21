//! Chapter 2: scoped threads borrow what the calling function owns.
//!
//! `thread::spawn` needs `'static` data (the thread may outlive the caller), which is why
//! so much threaded Rust reaches for `Arc`. `thread::scope` promises that every thread
//! started inside it is joined before the scope ends, so the threads may borrow local
//! variables, here slices of one vector.

use std::thread;

// ANCHOR: sum
/// Sum `numbers` on `threads` threads, each adding up its own chunk of the slice.
pub fn parallel_sum(numbers: &[u64], threads: usize) -> u64 {
    let chunk_len = numbers.len().div_ceil(threads.max(1)).max(1);
    thread::scope(|s| {
        let partial_sums: Vec<_> = numbers
            .chunks(chunk_len)
            .map(|chunk| s.spawn(move || chunk.iter().sum::<u64>()))
            .collect();
        partial_sums.into_iter().map(|h| h.join().unwrap()).sum()
    })
}
// ANCHOR_END: sum

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_sum_matches_the_sequential_sum() {
        let numbers: Vec<u64> = (1..=10_000).collect();
        for threads in [1, 2, 3, 7, 64] {
            assert_eq!(
                parallel_sum(&numbers, threads),
                50_005_000,
                "{threads} threads"
            );
        }
    }

    #[test]
    fn parallel_sum_of_nothing_is_zero() {
        assert_eq!(parallel_sum(&[], 4), 0);
        assert_eq!(parallel_sum(&[5], 0), 5);
    }
}
