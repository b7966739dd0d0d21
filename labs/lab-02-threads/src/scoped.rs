//! Chapter 2: scoped threads borrow what the calling function owns.
//!
//! `thread::spawn` needs a `'static` closure: one that owns what it uses (moved in) or
//! borrows only data that lives as long as the program, because nothing stops the thread
//! from outliving the function that started it. `thread::scope` promises that every
//! thread started inside it is joined before the scope ends, so its threads may borrow
//! local variables, here slices of one vector.

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

/// How often each byte value occurs in `data`, counted on `threads` threads.
///
/// The same lesson as the sharded counter: each thread counts its own chunk into a
/// histogram of its own, and the histograms are added up after the threads are done. No
/// thread ever writes to memory another thread writes to.
pub fn byte_histogram(data: &[u8], threads: usize) -> [u64; 256] {
    // EXERCISE: split `data` into one chunk per thread (as `parallel_sum` does), count
    // each chunk into a local `[u64; 256]` on a scoped thread, and add the per-thread
    // histograms together at the end. No locks, no atomics.
    // BEGIN SOLUTION
    let chunk_len = data.len().div_ceil(threads.max(1)).max(1);
    thread::scope(|s| {
        let partial: Vec<_> = data
            .chunks(chunk_len)
            .map(|chunk| {
                s.spawn(move || {
                    let mut counts = [0u64; 256];
                    for &byte in chunk {
                        counts[byte as usize] += 1;
                    }
                    counts
                })
            })
            .collect();
        let mut total = [0u64; 256];
        for handle in partial {
            for (sum, n) in total.iter_mut().zip(handle.join().unwrap()) {
                *sum += n;
            }
        }
        total
    })
    // END SOLUTION
}

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

    #[test]
    fn the_histogram_matches_a_sequential_count() {
        let data: Vec<u8> = (0..100_003u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut expected = [0u64; 256];
        for &b in &data {
            expected[b as usize] += 1;
        }
        for threads in [1, 2, 3, 8, 1000] {
            let counted = byte_histogram(&data, threads);
            assert_eq!(counted, expected, "{threads} threads");
            assert_eq!(counted.iter().sum::<u64>(), data.len() as u64);
        }
        assert_eq!(byte_histogram(&[], 4), [0u64; 256]);
        assert_eq!(byte_histogram(b"aab", 0)[b'a' as usize], 2);
    }
}
