//! Exercise 11.1: `limit_blocking`. One test in this file, so that no other test's runtime
//! adds `rt-blocking-*` threads to the count.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::time::Duration;

use lab_11::exercises::limit_blocking;

/// How long the test waits for a job that must not start while `limit` jobs are held. A
/// correct version never starts one, however long the wait; a version without a bound
/// starts the next job within microseconds.
const NO_MORE_STARTS: Duration = Duration::from_millis(300);

/// Run `limit_blocking(handle, limit, jobs, …)` on a runtime of the test's own with jobs that report their start and wait at a
/// gate the test keeps shut until it has seen `min(limit, jobs)` of them start, counted the
/// blocking threads, and seen no further job start. Returns (blocking threads while held,
/// peak of jobs running at once, jobs that ran, indices that ran).
fn run_limited(limit: usize, jobs: usize) -> (usize, usize, usize, Vec<usize>) {
    // The runtime is declared before the gate's guard, so that a failing assertion drops
    // the guard (opening the gate) before the runtime, which waits for its blocking jobs.
    let rt = lab_11::runtime(lab_11::DEFAULT_MAX_BLOCKING, lab_11::DEFAULT_KEEP_ALIVE).unwrap();
    let gate = Arc::new(RwLock::new(()));
    let shut = gate.write().unwrap();
    let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let ran = Arc::new(Mutex::new(Vec::new()));
    let (started_tx, started) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    // The test's runtime has tokio's default ceiling: the bound must come from the code.
    let handle = rt.handle().clone();
    {
        let (gate, running, peak, ran) = (gate.clone(), running.clone(), peak.clone(), ran.clone());
        let started_tx = Mutex::new(started_tx);
        std::thread::spawn(move || {
            let result = limit_blocking(&handle, limit, jobs, move |n| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                let _ = started_tx.lock().unwrap().send(n);
                drop(gate.read());
                ran.lock().unwrap().push(n);
                running.fetch_sub(1, Ordering::SeqCst);
            });
            let _ = done_tx.send(result);
        });
    }
    for _ in 0..limit.min(jobs) {
        started
            .recv_timeout(labkit::DEFAULT_TIMEOUT)
            .expect("a job did not start");
    }
    let names = lab_11::settled_names().unwrap();
    let blocking = names
        .iter()
        .filter(|n| n.starts_with("rt-blocking-"))
        .count();
    if jobs > limit {
        assert!(
            started.recv_timeout(NO_MORE_STARTS).is_err(),
            "a job started while {limit} were running: {names:?}"
        );
    }
    drop(shut);
    let finished = done
        .recv_timeout(labkit::DEFAULT_TIMEOUT)
        .expect("limit_blocking did not return")
        .unwrap();
    let mut ran = ran.lock().unwrap().clone();
    ran.sort();
    (blocking, peak.load(Ordering::SeqCst), finished, ran)
}

#[test]
fn a_semaphore_bounds_the_jobs_and_threads_below_the_pools_ceiling() {
    assert_eq!(run_limited(3, 7), (3, 3, 7, (0..7).collect()));
    assert_eq!(run_limited(5, 2), (2, 2, 2, vec![0, 1]));
}
