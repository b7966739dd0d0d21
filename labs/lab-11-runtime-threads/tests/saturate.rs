//! Exercise 11.1: `saturate_pool`. One test in this file, so that no other test's runtime
//! adds `rt-blocking-*` threads to the count.

use lab_11::exercises::{Saturation, saturate_pool};

#[test]
fn a_full_pool_holds_min_cap_jobs_threads_and_every_job_finishes() {
    assert_eq!(
        saturate_pool(3, 7).unwrap(),
        Saturation {
            blocking_threads: 3,
            finished: 7
        }
    );
    assert_eq!(
        saturate_pool(5, 2).unwrap(),
        Saturation {
            blocking_threads: 2,
            finished: 2
        }
    );
}
