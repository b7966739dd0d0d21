//! Chapter 2: scoped threads borrow what the calling function owns.
//!
//! `thread::spawn` needs a `'static` closure: one that owns what it uses (moved in) or
//! borrows only data that lives as long as the program, because nothing stops the thread
//! from outliving the function that started it. `thread::scope` promises that every
//! thread started inside it is joined before the scope ends, so its threads may borrow
//! local variables, here slices of one vector.

use std::collections::HashMap;
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

/// How often each word of `text` occurs (words are separated by whitespace; case
/// matters), counted on `threads` threads. The keys borrow from `text`.
pub fn word_counts(text: &str, threads: usize) -> HashMap<&str, u64> {
    // EXERCISE: share the counting out among `threads` scoped threads so that no word is
    // cut in two, let each thread count into a map that only it touches, and merge the
    // maps once the threads are done. No Mutex, no atomics.
    // BEGIN SOLUTION
    let words: Vec<&str> = text.split_whitespace().collect();
    let chunk_len = words.len().div_ceil(threads.max(1)).max(1);
    thread::scope(|s| {
        let partial: Vec<_> = words
            .chunks(chunk_len)
            .map(|chunk| {
                s.spawn(move || {
                    let mut counts: HashMap<&str, u64> = HashMap::new();
                    for &word in chunk {
                        *counts.entry(word).or_default() += 1;
                    }
                    counts
                })
            })
            .collect();
        let mut total: HashMap<&str, u64> = HashMap::new();
        for handle in partial {
            for (word, n) in handle.join().unwrap() {
                *total.entry(word).or_default() += n;
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

    fn counted_one_by_one(text: &str) -> HashMap<&str, u64> {
        let mut counts = HashMap::new();
        for word in text.split_whitespace() {
            *counts.entry(word).or_default() += 1;
        }
        counts
    }

    #[test]
    fn word_counts_match_a_count_on_one_thread() {
        let text: String = (0..5_000u32)
            .map(|i| format!("w{} ", i * 7 % 97))
            .chain(["the end\n\tThe  END".to_string()])
            .collect();
        let expected = counted_one_by_one(&text);
        for threads in [1, 2, 3, 8, 64] {
            assert_eq!(word_counts(&text, threads), expected, "{threads} threads");
        }
        assert_eq!(word_counts(&text, 0), expected, "0 threads counts on one");
    }

    #[test]
    fn no_word_is_cut_in_two_between_threads() {
        let text = "supercalifragilistic expialidocious";
        let counts = word_counts(text, 16);
        assert_eq!(counts.len(), 2, "{counts:?}");
        assert_eq!(counts.get("supercalifragilistic"), Some(&1));
        assert_eq!(counts.get("expialidocious"), Some(&1));
        assert!(word_counts("", 4).is_empty());
        assert!(word_counts(" \n\t ", 4).is_empty());
    }
}
